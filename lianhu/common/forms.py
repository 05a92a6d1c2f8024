"""Form pieces shared by every form that takes a person's sealed ID number and phone."""

from django import forms

from .validators import clean_text, normalize_phone, parse_id_number


class SealedFieldsMixin(forms.Form):
    """ID number and phone as plain fields; left blank while editing, they keep their stored value.

    A subclass sets `self.editing` before calling `show_current_sealed_values()`.
    """

    id_number = forms.CharField(label="身份证号", required=False, max_length=30)
    phone = forms.CharField(label="联系电话", required=False, max_length=30)
    editing = False

    def show_current_sealed_values(self) -> None:
        if self.editing:
            self.fields["id_number"].help_text = f"现为 {self.instance.id_number_masked or '未登记'}；留空则不变"
            self.fields["phone"].help_text = f"现为 {self.instance.phone_masked or '未登记'}；留空则不变"

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
