"""The portal's forms, with the labels of rules 8.5."""

from django import forms


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

    code = forms.RegexField(
        label="Code",
        regex=r"^\d{6}$",
        error_messages={"invalid": "Vul de 6 cijfers uit uw authenticator-app in."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            autocomplete="one-time-code", inputmode="numeric", autofocus=True
        )
