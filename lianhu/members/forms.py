from django import forms
from django.db.models import Count, Q
from django.utils import timezone

from lianhu.common.forms import SealedFieldsMixin, VersionedFormMixin
from lianhu.org.models import Branch, Grid
from lianhu.org.rules import form_grid_in_branch

from .models import ExemptReason, MemberStatus, PartyMember


def members_with_room(user, branch_ids):
    """Active members of some branches the user may manage, with their current load, for link drop-downs."""
    return (
        PartyMember.objects.visible_to(user, "manage_members")
        .filter(branch_id__in=branch_ids, status=MemberStatus.ACTIVE)
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
        self.fields["member"].queryset = members_with_room(user, [household.branch_id])


class MemberForm(VersionedFormMixin, SealedFieldsMixin, forms.ModelForm):
    class Meta:
        model = PartyMember
        fields = ["branch", "grid", "name", "gender", "joined_party_on", "address", "capacity", "post", "lng", "lat"]
        widgets = {"joined_party_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    field_order = ["branch", "grid", "name", "gender", "birth_date"]

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["branch"].queryset = Branch.objects.visible_to(user, "manage_members")
        self.fields["grid"].queryset = Grid.objects.visible_to(user, "manage_members").select_related("branch")
        self.show_current_sealed_values()

    def clean(self):
        data = super().clean()
        form_grid_in_branch(self, data.get("grid"), data.get("branch"))
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
