"""Store connectors: webhooks from Shopify, WooCommerce, Ecwid, Tilda and InSales become orders;
status changes go back to the shop through an outgoing webhook (see docs/connectors.md)."""
