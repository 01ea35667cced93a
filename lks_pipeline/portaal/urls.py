"""The portal's addresses; the admin for Inlichtingenbureau staff under /beheer/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

from lks_pipeline.portaal import views

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
]
urlpatterns = [
    path("beheer/", admin.site.urls),
    path("", include((portaal, "portaal"))),
]
