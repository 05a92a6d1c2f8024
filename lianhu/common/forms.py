"""Form pieces shared by the edit forms: a person's sealed ID number and phone, the record's version."""

from django import forms

from .validators import clean_text, normalize_phone, parse_id_number
from .versions import version_of


class SealedFieldsMixin(forms.Form):
    """ID number, phone and birth date as plain fields; left blank while editing, they keep their stored
    value, which the form never shows (only its masked form: the birth date is revealed, audited,
    on the record's page).

    A subclass sets `self.editing` before calling `show_current_sealed_values()`.
    """

    id_number = forms.CharField(label="身份证号", required=False, max_length=30)
    phone = forms.CharField(label="联系电话", required=False, max_length=30)
    birth_date = forms.DateField(label="出生日期", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    editing = False

    def show_current_sealed_values(self) -> None:
        if self.editing:
            self.fields["id_number"].help_text = f"现为 {self.instance.id_number_masked or '未登记'}；留空则不变"
            self.fields["phone"].help_text = f"现为 {self.instance.phone_masked or '未登记'}；留空则不变"
            born = self.instance.birth_year
            self.fields["birth_date"].help_text = f"现为 {f'{born} 年生' if born else '未登记'}；留空则不变"

    def _post_clean(self):
        super()._post_clean()
        if self.cleaned_data.get("birth_date"):  # not a model field: ModelForm would not set it
            self.instance.birth_date = self.cleaned_data["birth_date"]

    def clean_name(self):
        return clean_text(self.cleaned_data["name"])

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        if not raw:
            return None if self.editing else ""  # None tells the service "unchanged"
        return parse_id_number(raw).value

    def clean_phone(self):
        raw = self.cleaned_data["phone"]
        if not raw:
            return None if self.editing else ""
        return normalize_phone(raw)


class VersionedFormMixin(forms.Form):
    """A hidden `version`: the stored version the form was filled from (lianhu.common.versions).

    Saved with a version that is no longer the stored one, the form is stale: ScopedFormView shows it
    again filled from the record as stored now, with what was typed beside each field that differs.
    """

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = version_of(self.instance) if self.instance.pk else ""

    @property
    def expected_version(self) -> str | None:
        """The version the user saw, or None for a new record or a post without one (no check)."""
        if not self.instance.pk:
            return None
        return self.data.get(self.add_prefix("version")) or None

    def is_stale(self) -> bool:
        """Whether the record changed since the form was filled (self.instance is read at each request)."""
        expected = self.expected_version if self.is_bound else None
        return expected is not None and expected != version_of(self.instance)

    def changes(self) -> dict:
        """The model fields of the form with their cleaned values, for the `changes` of an update service;
        a sealed birth date only when one was typed (blank keeps the stored one)."""
        changes = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        if self.cleaned_data.get("birth_date"):
            changes["birth_date"] = self.cleaned_data["birth_date"]
        return changes

    def show_what_was_typed(self, posted: forms.BaseForm) -> None:
        """Beside each field, what `posted` (the stale form) said where it differs from the stored value."""
        for name, field in self.fields.items():
            if name == "version" or field.disabled:
                continue
            data = field.widget.value_from_datadict(posted.data, posted.files, posted.add_prefix(name))
            if not field.has_changed(self.get_initial_for_field(field, name), data):
                continue
            typed = f"您刚才填写的是：{_shown(field, data)}"
            field.help_text = f"{typed}；{field.help_text}" if field.help_text else typed


def _shown(field: forms.Field, data) -> str:
    """A posted value as the user would recognise it: choices by their label, yes or no, blank as （空）."""
    try:
        value = field.clean(data)
    except forms.ValidationError:
        value = data
    if isinstance(field, forms.BooleanField):
        return "是" if value else "否"
    if value in (None, "", [], ()):
        return "（空）"
    plain_choices = isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField)
    labels = {str(k): v for k, v in field.choices} if plain_choices else {}
    if isinstance(value, (list, tuple)):
        return "、".join(str(labels.get(str(v), v)) for v in value)
    return str(labels.get(str(value), value))
