from django.urls import path

from payments.stripe.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("checkout/<str:session_id>/", views.checkout_page, name="checkout"),
    path(
        "checkout/<str:session_id>/authenticate/",
        views.checkout_authenticate,
        name="checkout_authenticate",
    ),
    path(
        "payment_intents/<str:intent_id>/confirm/",
        views.payment_intent_confirm,
        name="payment_intent_confirm",
    ),
    path(
        "payment_intents/<str:intent_id>/authenticate/",
        views.payment_intent_authenticate,
        name="payment_intent_authenticate",
    ),
]
