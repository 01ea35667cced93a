"""The portal's forms, with the labels of rules 8.5."""

from dataclasses import fields

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm

from lks_pipeline.ingest.dkd import BERICHTVERSIES
from lks_pipeline.portaal.aanleveren import SOORTEN
from lks_pipeline.portaal.instellingen import Instelling, fouten
from lks_pipeline.portaal.models import MACHTIGINGEN, Gebruiker


def code_field(label: str) -> forms.RegexField:
    """Six digits of a second factor (TOTP), with the portal's Dutch message."""
    field = forms.RegexField(
        label=label,
        regex=r"^\d{6}$",
        error_messages={"invalid": "Vul de 6 cijfers uit uw authenticator-app in."},
    )
    field.widget.attrs.update(autocomplete="one-time-code", inputmode="numeric")
    return field


class InlogForm(forms.Form):
    """Step one of logging in."""

    # Field names as Django's own login form, so django-axes finds the user name.
    username = forms.CharField(label="Gebruikersnaam", max_length=150)
    password = forms.CharField(label="Wachtwoord", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")


class CodeForm(forms.Form):
    """Step two: the six digits of the second factor."""

    code = code_field("Code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(autofocus=True)


class AanleverForm(forms.Form):
    """Aanleveren: the kind of file and the file (rules 8.5)."""

    soort = forms.ChoiceField(
        label="Soort bestand",
        choices=[(key, soort.label) for key, soort in SOORTEN.items()],
        widget=forms.RadioSelect,
    )
    bestand = forms.FileField(label="Bestand", allow_empty_file=False)


class InstellingenForm(forms.Form):
    """DKD instellingen of the Reintegratie cluster (rules 4.5, 8.5)."""

    aanlevermethode = forms.ChoiceField(
        label="Aanlevermethode",
        choices=[("verzamelbestand", "Verzamelbestand"), ("webservice", "Webservice")],
    )
    berichtversie = forms.ChoiceField(
        label="Berichtversie", choices=[(v, v) for v in BERICHTVERSIES]
    )
    url = forms.CharField(
        label="URL",
        required=False,
        max_length=500,
        help_text="Alleen bij webservice: https://…/ gevolgd door de berichtversie.",
    )
    leverfrequentie = forms.ChoiceField(
        label="Leverfrequentie",
        required=False,
        choices=[("", "(geen)"), ("wekelijks", "wekelijks"), ("maandelijks", "maandelijks")],
    )
    notificatie_email = forms.EmailField(label="Notificatie e-mail", max_length=254)

    def __init__(self, *args, gemeentecode: str, alleen_lezen: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.gemeentecode = gemeentecode
        for field in self.fields.values():
            field.disabled = alleen_lezen

    def instelling(self) -> Instelling:
        data = self.cleaned_data
        return Instelling(*(data[f.name] or None for f in fields(Instelling)))

    def clean(self):
        data = super().clean()
        if not self.errors:
            for reden in fouten(self.instelling(), self.gemeentecode):
                veld = reden.partition(":")[0]
                self.add_error(veld if veld in self.fields else None, reden)
        return data


def _machtigingen(form: forms.Form) -> None:
    for machtiging, veld in MACHTIGINGEN.items():
        form.fields[veld] = forms.BooleanField(label=machtiging, required=False)


class GebruikerForm(forms.Form):
    """Gebruikersbeheer: a new user of the beheerder's gemeente (rules 8.1, 8.5)."""

    username = forms.RegexField(
        label="Gebruikersnaam",
        max_length=150,
        regex=r"^[A-Za-z0-9._-]+$",
        error_messages={"invalid": "Alleen letters, cijfers, punt, streepje en liggend streepje."},
    )
    email = forms.EmailField(label="E-mailadres", max_length=254)
    rol = forms.ChoiceField(label="Rol", choices=Gebruiker.Rol.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _machtigingen(self)


class WijzigForm(forms.Form):
    """Gebruikersbeheer: role, machtigingen and whether the account is active."""

    rol = forms.ChoiceField(label="Rol", choices=Gebruiker.Rol.choices)
    actief = forms.BooleanField(label="Actief", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _machtigingen(self)


def _labels(form: forms.Form, **labels: str) -> None:
    for name, label in labels.items():
        form.fields[name].label = label


class ActivatieForm(SetPasswordForm):
    """The activation page: a password of one's own, and the first code of the new factor."""

    code = code_field("Code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _labels(self, new_password1="Nieuw wachtwoord", new_password2="Herhaal wachtwoord")


class WachtwoordForm(PasswordChangeForm):
    """Persoonlijke instellingen: a new password, the current one required."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _labels(
            self,
            old_password="Huidig wachtwoord",
            new_password1="Nieuw wachtwoord",
            new_password2="Herhaal wachtwoord",
        )


class TweedeFactorForm(forms.Form):
    """Persoonlijke instellingen: a new second factor, a code of the current one required."""

    huidige_code = code_field("Code van uw huidige app")
    nieuwe_code = code_field("Code van de nieuwe sleutel")
