"""customers: one record per person who orders (phone in E.164, else email), orders linked to
them; the orders already stored are linked here

Revision ID: 0017_customers
Revises: 0016
Create Date: 2026-12-07 14:30:00.000000
"""

from alembic import op
import sqlalchemy as sa

import core.db.base
from core.customers.keys import e164, email_key


revision = "0017_customers"
down_revision = "0016"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = core.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("merged_into", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_customers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["customers.id"], name=op.f("fk_customers_merged_into_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    for column in ("phone", "email"):
        op.create_index(
            f"uq_customers_account_{column}",
            "customers",
            ["account_id", column],
            unique=True,
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_index("ix_customers_account_name", "customers", ["account_id", "name"])

    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; a batch copy of `orders` would drop
        # the table under foreign_keys=ON, and its tasks with it.
        op.execute(
            "ALTER TABLE orders ADD COLUMN customer_id INTEGER "
            "REFERENCES customers (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("orders", sa.Column("customer_id", BigId, nullable=True))
        op.create_foreign_key(
            op.f("fk_orders_customer_id_customers"),
            "orders",
            "customers",
            ["customer_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_orders_customer", "orders", ["customer_id", "created_at"])
    _link_stored_orders()


def downgrade() -> None:
    op.drop_index("ix_orders_customer", table_name="orders")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(op.f("fk_orders_customer_id_customers"), type_="foreignkey")
        batch_op.drop_column("customer_id")
    op.drop_index("ix_customers_account_name", table_name="customers")
    op.drop_index("uq_customers_account_email", table_name="customers")
    op.drop_index("uq_customers_account_phone", table_name="customers")
    op.drop_table("customers")


# ---- linking the orders stored before --------------------------------------------------------

_accounts = sa.table("accounts", sa.column("id", BigId), sa.column("country", sa.String))
_orders = sa.table(
    "orders",
    sa.column("id", BigId),
    sa.column("account_id", BigId),
    sa.column("customer_name", sa.String),
    sa.column("customer_phone", sa.String),
    sa.column("customer_email", sa.String),
    sa.column("created_at", UTC),
    sa.column("customer_id", BigId),
)
_customers = sa.table(
    "customers",
    sa.column("id", BigId),
    sa.column("account_id", BigId),
    sa.column("name", sa.String),
    sa.column("phone", sa.String),
    sa.column("email", sa.String),
    sa.column("created_at", UTC),
    sa.column("updated_at", UTC),
)


def _link_stored_orders() -> None:
    """Each account's orders, oldest first, grouped as intake groups them from now on
    (core/customers/intake.py): the phone first, else the email; a later order that carries a
    known phone and a known email of a customer without a phone joins the two."""
    conn = op.get_bind()
    for account_id, country in conn.execute(sa.select(_accounts.c.id, _accounts.c.country)).all():
        region = (country or "RU").upper()
        people: dict[int, dict] = {}
        by_phone: dict[str, int] = {}
        by_email: dict[str, int] = {}
        rows = conn.execute(
            sa.select(
                _orders.c.id,
                _orders.c.customer_name,
                _orders.c.customer_phone,
                _orders.c.customer_email,
                _orders.c.created_at,
            )
            .where(_orders.c.account_id == account_id)
            .order_by(_orders.c.created_at, _orders.c.id)
        ).all()
        for order_id, name, raw_phone, raw_email, created_at in rows:
            phone, email = e164(raw_phone, region), email_key(raw_email)
            by_p = by_phone.get(phone) if phone else None
            by_e = by_email.get(email) if email else None
            if by_p is not None and by_e is not None and by_p != by_e:
                if people[by_e]["phone"] is None:
                    _join(people, by_email, keep=by_p, drop=by_e)
                by_e = None
            key = by_p if by_p is not None else by_e
            if key is None:
                key = order_id  # a new person is known by their first order
                people[key] = {"name": name, "phone": None, "email": None, "at": created_at}
                people[key]["orders"] = []
            person = people[key]
            if person["phone"] is None and phone and phone not in by_phone:
                person["phone"], by_phone[phone] = phone, key
            if person["email"] is None and email and email not in by_email:
                person["email"], by_email[email] = email, key
            person["orders"].append(order_id)
        for person in people.values():
            customer_id = conn.execute(
                sa.insert(_customers).values(
                    account_id=account_id,
                    name=person["name"],
                    phone=person["phone"],
                    email=person["email"],
                    created_at=person["at"],
                    updated_at=person["at"],
                )
                .returning(_customers.c.id)
            ).scalar_one()
            conn.execute(
                sa.update(_orders)
                .where(_orders.c.id == sa.bindparam("oid"))
                .values(customer_id=sa.bindparam("cid")),
                [{"oid": o, "cid": customer_id} for o in person["orders"]],
            )


def _join(people: dict[int, dict], by_email: dict[str, int], keep: int, drop: int) -> None:
    gone = people.pop(drop)
    people[keep]["orders"].extend(gone["orders"])
    if gone["email"] is not None:
        if people[keep]["email"] is None:
            people[keep]["email"] = gone["email"]
            by_email[gone["email"]] = keep
        else:
            del by_email[gone["email"]]
