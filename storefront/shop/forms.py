"""What the buyer may send: an item id and a quantity, never a price."""

from django import forms

from storefront.models import MAX_QUANTITY


class QuantityField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(
            min_value=1,
            max_value=MAX_QUANTITY,
            error_messages={
                "required": "Give a quantity.",
                "invalid": "The quantity must be a whole number.",
                "min_value": f"The quantity must be between 1 and {MAX_QUANTITY}.",
                "max_value": f"The quantity must be between 1 and {MAX_QUANTITY}.",
            },
            **kwargs,
        )


class AddToOrderForm(forms.Form):
    item = forms.IntegerField(min_value=1, error_messages={"invalid": "There is no such item."})
    quantity = QuantityField(initial=1)


class LineQuantityForm(forms.Form):
    quantity = QuantityField()


class DiscountCodeForm(forms.Form):
    code = forms.CharField(max_length=40, error_messages={"required": "Enter a discount code."})


class ReceiptEmailForm(forms.Form):
    email = forms.EmailField(
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter a valid e-mail address, or leave it empty."},
    )


def first_error(form: forms.Form) -> str:
    return next(iter(form.errors.values()))[0]
