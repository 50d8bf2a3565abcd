"""Everything payments serves: the notification endpoints, and what each rail adds (the Stripe
sandbox's pages, where it is installed). The project mounts this at the site's root."""

from django.urls import include, path

from payments import views
from payments.rails import all_rails

notification_patterns = (
    [
        # Stripe's endpoints have been /payments/webhooks/stripe/<currency>/ since the first
        # release: the account slug of a Stripe account is its currency.
        path("webhooks/<slug:rail>/<slug:account>/", views.notification, name="notification"),
    ],
    "payments",
)

urlpatterns = [path("payments/", include(notification_patterns))]
for _rail in all_rails().values():
    urlpatterns += _rail.urlpatterns()
