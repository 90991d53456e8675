"""ShopDesk core: domain rules, services, persistence and jobs. Never imports aiogram."""
