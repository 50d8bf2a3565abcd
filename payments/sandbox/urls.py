from django.urls import path

from payments.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("checkout/<str:session_id>/", views.checkout_page, name="checkout"),
]
