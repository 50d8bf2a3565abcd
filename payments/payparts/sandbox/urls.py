from django.urls import path

from payments.payparts.sandbox import views

urlpatterns = [path("payment", views.payment_page, name="payparts_sandbox_payment")]
