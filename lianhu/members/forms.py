from django import forms
from django.db.models import Count, Q
from django.utils import timezone

from lianhu.common.validators import clean_text, normalize_phone, parse_id_number
from lianhu.org.models import Branch, Grid

from .models import ExemptReason, MemberStatus, PartyMember


def members_with_room(user, branch_id):
    """Active members of a branch the user may manage, with their current load, for a link drop-down."""
    return (
        PartyMember.objects.visible_to(user, "manage_members")
        .filter(branch_id=branch_id, status=MemberStatus.ACTIVE)
        .annotate(load=Count("links", filter=Q(links__ended_on__isnull=True)))
        .order_by("load", "name")
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, m):
        return f"{m.name}（已联系 {m.load}/{m.capacity} 户）"


class LinkForm(forms.Form):
    member = MemberChoiceField(label="联系党员", queryset=PartyMember.objects.none(), empty_label="请选择党员")

    def __init__(self, *args, household, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        self.fields["member"].queryset = members_with_room(user, household.branch_id)


class MemberForm(forms.ModelForm):
    id_number = forms.CharField(label="身份证号", required=False, max_length=30)
    phone = forms.CharField(label="联系电话", required=False, max_length=30)

    class Meta:
        model = PartyMember
        fields = ["branch", "grid", "name", "gender", "birth_date", "joined_party_on", "address", "capacity", "post",
                  "lng", "lat"]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "joined_party_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["branch"].queryset = Branch.objects.visible_to(user, "manage_members")
        self.fields["grid"].queryset = Grid.objects.visible_to(user, "manage_members").select_related("branch")
        if editing:
            self.fields["id_number"].help_text = f"现为 {self.instance.id_number_masked or '未登记'}；留空则不变"
            self.fields["phone"].help_text = f"现为 {self.instance.phone_masked or '未登记'}；留空则不变"

    def clean_name(self):
        return clean_text(self.cleaned_data["name"])

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        if not raw:
            return None if self.editing else ""
        return parse_id_number(raw).value

    def clean_phone(self):
        raw = self.cleaned_data["phone"]
        if not raw:
            return None if self.editing else ""
        return normalize_phone(raw)

    def clean(self):
        data = super().clean()
        if data.get("grid") and data.get("branch") and data["grid"].branch_id != data["branch"].pk:
            self.add_error("grid", "网格不属于所选支部")
        return data


class ExemptForm(forms.Form):
    reason = forms.ChoiceField(label="原因", choices=ExemptReason.choices)
    since = forms.DateField(label="认定日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    approved_by = forms.CharField(label="认定人", max_length=50)
    post = forms.CharField(label="设岗定责", max_length=50, required=False, help_text="如：政策宣传岗、矛盾调解岗")

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since > timezone.localdate():
            raise forms.ValidationError("认定日期不能晚于今天")
        return since


class LeftForm(forms.Form):
    on = forms.DateField(label="转出日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
