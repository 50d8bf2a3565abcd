"""What the buyer reaches: the catalogue, item, order and pay pages and the return pages
(views), `/buy/...` (JSON, on DRF) and the order-state endpoint (order_api). Views validate,
call one service of storefront.shop, render; nothing here is imported by the back office or
the documents.
"""
