/*
 * The Buy button: ask our server for a Checkout Session (GET /buy/{id}), then send the buyer
 * to Stripe Checkout. stripe.redirectToCheckout({sessionId}) where the loaded Stripe.js still
 * has it (Stripe removed it in 2025), else the session's own URL.
 */
(function () {
  "use strict";

  var button = document.getElementById("buy-button");
  var errorBox = document.getElementById("buy-error");
  if (!button) {
    return;
  }
  var ui = window.busyButton(button, errorBox, "Redirecting to checkout\u2026");

  async function createSession() {
    var response;
    try {
      response = await fetch(button.dataset.buyUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
    } catch (networkError) {
      throw new Error("We could not reach the shop. Check your connection and try again.");
    }
    var data = null;
    try {
      data = await response.json();
    } catch (parseError) {
      data = null;
    }
    if (!response.ok || !data || !data.id) {
      throw new Error(
        (data && data.error) || "Something went wrong starting the checkout. Please try again."
      );
    }
    return data;
  }

  async function goToCheckout(session) {
    var stripe = null;
    if (typeof window.Stripe === "function" && button.dataset.publishableKey) {
      stripe = window.Stripe(button.dataset.publishableKey);
    }
    if (stripe && typeof stripe.redirectToCheckout === "function") {
      var result = await stripe.redirectToCheckout({ sessionId: session.id });
      if (result && result.error) {
        throw new Error(result.error.message);
      }
      return;
    }
    if (!session.url) {
      throw new Error("The checkout could not be opened. Please try again.");
    }
    window.location.assign(session.url);
  }

  button.addEventListener("click", async function () {
    if (button.disabled) {
      return;
    }
    ui.clearError();
    ui.setBusy(true);
    try {
      await goToCheckout(await createSession());
    } catch (error) {
      ui.showError(error.message);
      ui.setBusy(false);
    }
  });
})();
