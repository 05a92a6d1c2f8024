from django import forms

from lianhu.common.forms import SealedFieldsMixin, VersionedFormMixin
from lianhu.common.validators import clean_text

from .rules import form_grid_in_branch
from .models import Branch, CareTag, Grid, Household, Relation, Resident, SensitiveTag


class BranchForm(forms.ModelForm):
    class Meta:
        model = Branch
        fields = ["name", "kind", "code"]


class GridForm(forms.ModelForm):
    class Meta:
        model = Grid
        fields = ["name", "code"]

    def clean_code(self):
        code = clean_text(self.cleaned_data["code"])
        branch_code = self.instance.branch.code
        if not code.startswith(branch_code):
            raise forms.ValidationError("网格编码的前 12 位应与支部区划代码 %(c)s 一致", params={"c": branch_code})
        return code


class HouseholdForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Household
        fields = ["branch", "grid", "address", "villager_group", "self_built", "floors", "built_year",
                  "lng", "lat", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, branches=None, grids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["grid"].queryset = grids.select_related("branch")

    def clean(self):
        data = super().clean()
        form_grid_in_branch(self, data.get("grid"), data.get("branch"))
        return data


class ResidentForm(VersionedFormMixin, SealedFieldsMixin, forms.ModelForm):
    """Sealed fields are plain form fields; left blank on edit, they keep their stored value."""

    care_tags = forms.MultipleChoiceField(label="关爱标签", required=False, choices=CareTag.choices,
                                          widget=forms.CheckboxSelectMultiple)
    sensitive_tags = forms.MultipleChoiceField(label="敏感标签", required=False, choices=SensitiveTag.choices,
                                               widget=forms.CheckboxSelectMultiple)
    clear_sensitive_tags = forms.BooleanField(label="清除全部敏感标签", required=False)

    class Meta:
        model = Resident
        fields = ["name", "gender", "relation", "care_tags"]

    field_order = ["name", "gender", "relation", "birth_date"]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["relation"].initial = Relation.HEAD
        self.show_current_sealed_values()
        if editing:
            self.fields["sensitive_tags"].help_text = "不勾选则保持不变"
        else:
            del self.fields["clear_sensitive_tags"]

    def sealed_values(self) -> dict:
        d = self.cleaned_data
        tags = d.get("sensitive_tags") or []
        if self.editing:
            sensitive = [] if d.get("clear_sensitive_tags") else (tags or None)
        else:
            sensitive = tags
        return {"id_number": d["id_number"], "phone": d["phone"], "sensitive_tags": sensitive}
