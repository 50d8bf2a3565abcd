"""The merchant's back office: the admin of items, discounts and taxes (catalogue_admin), of
orders (order_admin, with their lines in order_lines_admin), the currency menus they share
(currency_menus), all put on the site by admin.register; the tables of an order's payments,
refunds, disputes and e-mails on its page (order_tables), the refund form (order_refund) and
the CSV export (exports). Django registers it from StorefrontConfig.ready(). It builds on the
domain and the documents, never on the buyer's views.
"""
