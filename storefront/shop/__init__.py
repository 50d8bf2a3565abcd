"""The shop's domain: what a buyer and the merchant can do with orders (orders), paying them
(order_payment), what a succeeded payment or refund does to them (order_fulfilment), their
prices to the minor unit (pricing), where an order's money stands (settlement), the catalogue's
pages (catalogue), who may see an order (access), the buyer's forms (forms) and the e-mails owed
(mail). Its models are storefront.models, where Django looks for them. It talks to payments
through payments.services only, and imports no page, admin or document.
"""
