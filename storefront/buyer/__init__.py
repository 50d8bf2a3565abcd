"""What the buyer reaches, a module per resource: the catalogue and item pages
(catalogue_pages), an order's pages and forms and its invoice (order_pages), paying on our own
page (pay_pages), `/buy/...` (pay_json, on DRF), the pages a provider returns the buyer to
(return_pages), what a pay request asks for (paying), and the order-state endpoint (order_api).
Views validate, call one service of storefront.shop, render; nothing here is imported by the
back office or the documents.
"""
