from django.urls import include, path
from django.views.i18n import set_language

from shouhu.core.jurisdiction import public
from shouhu.web import views, views_children, views_family, views_lifecycle, views_lookup, views_reveal

app_name = "web"

# Django's language switch shows nothing about any child: declared public for the URL walk test.
public(set_language)

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("sw.js", views.service_worker, name="sw"),
    path("offline/", views.offline, name="offline"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", views.home, name="home"),
    path("children/", views_children.child_list, name="child_list"),
    path("children/new/", views_children.child_create, name="child_create"),
    path("children/lookup/", views_lookup.child_lookup, name="child_lookup"),
    path("children/duplicates/", views_lifecycle.duplicates, name="child_duplicates"),
    path("children/<uuid:pk>/archive/", views_lifecycle.archive, name="child_archive"),
    path("children/<uuid:pk>/reactivate/", views_lifecycle.reactivate, name="child_reactivate"),
    path("children/<uuid:pk>/transfer/", views_lifecycle.transfer, name="child_transfer"),
    path("children/<uuid:pk>/merge/", views_lifecycle.merge, name="child_merge"),
    path("children/<uuid:pk>/", views_children.child_detail, name="child_detail"),
    path("children/<uuid:pk>/reveal/", views_reveal.child_reveal, name="child_reveal"),
    path("children/<uuid:pk>/edit/", views_children.child_edit, name="child_edit"),
    path("children/<uuid:pk>/guardian/<str:role>/", views_children.guardian_edit, name="guardian_edit"),
    path("children/<uuid:pk>/grandparents/", views_children.grandparents_edit, name="grandparents_edit"),
    path("children/<uuid:pk>/agreement/new/", views_family.agreement_add, name="agreement_add"),
    path("children/<uuid:pk>/household/", views_family.household, name="household"),
    path("children/<uuid:pk>/household/save/", views_family.household_save, name="household_save"),
    path("children/<uuid:pk>/household/members/", views_family.member_add, name="member_add"),
    path("children/<uuid:pk>/household/plan/", views_family.plan_add, name="plan_add"),
    path("children/<uuid:pk>/household/plan/<int:item>/done/", views_family.plan_done, name="plan_done"),
    # Pages of the care and protection modules (names in this "web" namespace).
    path("", include("shouhu.care.web_urls")),
    path("", include("shouhu.protection.web_urls")),
    path("", include("shouhu.ledger.web_urls")),
    path("", include("shouhu.schooling.web_urls")),
    path("", include("shouhu.services.web_urls")),
    # Users and role grants (roles.grant) and the auditor's pages (audit.view): core's pages.
    path("", include("shouhu.core.web_urls")),
    # Second factor, password change, lockouts (auth.lockouts) and service tokens (auth.tokens).
    path("", include("shouhu.accounts.web_urls")),
    # Documents (PDF), attachments and the public verify page (core's document service).
    path("", include("shouhu.core.documents.web_urls")),
]
