/*
 * The Payment Element on our own page: mount Stripe's card form for the order's
 * PaymentIntent, and confirm it with stripe.confirmPayment, which sends the buyer to
 * return_url (with payment_intent appended) or tells us why the card was refused.
 */
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form) {
    return;
  }
  var button = document.getElementById("submit-payment");
  var errorBox = document.getElementById("payment-error");
  var ui = window.busyButton(button, errorBox, "Paying\u2026");

  if (typeof window.Stripe !== "function") {
    ui.showError("The payment form could not be loaded. Check your connection and reload the page.");
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  var paymentElement = elements.create("payment");
  paymentElement.mount("#payment-element");
  button.disabled = false;

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (button.disabled) {
      return;
    }
    ui.clearError();
    ui.setBusy(true);
    try {
      var result = await stripe.confirmPayment({
        elements: elements,
        confirmParams: { return_url: form.dataset.returnUrl },
      });
      // confirmPayment only comes back when it did not redirect: that is an error.
      if (result && result.error) {
        ui.showError(result.error.message || "Your payment could not be completed.");
      }
    } catch (error) {
      ui.showError("We could not reach the payment provider. Please try again.");
    }
    ui.setBusy(false);
  });
})();
