"""The portal's addresses; the admin for Inlichtingenbureau staff under /beheer/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

from lks_pipeline.portaal import views, views_dkd, views_gebruikers

portaal = [
    path("", RedirectView.as_view(pattern_name="portaal:dashboard"), name="start"),
    path("inloggen/", views.inloggen, name="inloggen"),
    path("inloggen/code/", views.code, name="code"),
    path("uitloggen/", views.uitloggen, name="uitloggen"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("ophalen/", views.ophalen_index, name="ophalen_index"),
    path("ophalen/<slug:slug>/", views.ophalen, name="ophalen"),
    path("ophalen/<slug:slug>/verwijderen/", views.verbergen, name="verbergen"),
    path("ophalen/<slug:slug>/<str:titel>", views.download, name="download"),
    path("aanleveren/", views_dkd.aanleveren_pagina, name="aanleveren"),
    path("dkd-instellingen/", views_dkd.dkd_instellingen, name="dkd_instellingen"),
    path("gebruikers/", views_gebruikers.gebruikersbeheer, name="gebruikersbeheer"),
    path("gebruikers/toevoegen/", views_gebruikers.gebruiker_toevoegen, name="gebruiker_toevoegen"),
    path("gebruikers/<str:naam>/", views_gebruikers.gebruiker_wijzigen, name="gebruiker"),
    path(
        "gebruikers/<str:naam>/activatielink/",
        views_gebruikers.activatielink,
        name="activatielink",
    ),
    path("activeren/<str:uidb64>/<str:token>/", views_gebruikers.activeren, name="activeren"),
    path("persoonlijk/", views_gebruikers.persoonlijk, name="persoonlijk"),
]
urlpatterns = [
    path("beheer/", admin.site.urls),
    path("", include((portaal, "portaal"))),
]
