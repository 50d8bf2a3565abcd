"""What the shop writes for its buyers: PDF invoices (invoices) and credit notes
(credit_notes), and the e-mails it owes them, composed and sent once (mail: receipts with the
invoice attached, refund notices). Built from the domain's figures; the buyer's pages and the
back office hand them out.
"""
