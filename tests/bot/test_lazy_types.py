"""aiogram's models are built on first use (bot/lazy_types.py), and every one of them can be."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    from bot.lazy_types import _models, install

    assert install()
    import aiogram.methods as methods, aiogram.types as types

    models = _models(types, methods)
    assert len(models) > 400, len(models)
    # Imported but not built: a type the bot never used has no validator yet.
    assert not types.PreCheckoutQuery.__pydantic_complete__
    assert not methods.SendInvoice.__pydantic_complete__
    # Each builds on first use, forward references resolved.
    invoice = methods.SendInvoice(
        chat_id=1, title="t", description="d", payload="p", currency="XTR",
        prices=[types.LabeledPrice(label="x", amount=1)],
    )
    assert invoice.model_dump()["prices"][0]["amount"] == 1
    query = types.PreCheckoutQuery.model_validate({
        "id": "1", "from": {"id": 2, "is_bot": False, "first_name": "a"},
        "currency": "XTR", "total_amount": 1, "invoice_payload": "p",
    })
    assert query.from_user.id == 2
    failed = [m.__name__ for m in models if m.model_rebuild(raise_errors=False) is False]
    assert not failed, failed
    assert all(m.__pydantic_complete__ for m in models)
    print("ok", len(models))
    """
)


def test_every_aiogram_model_builds_on_first_use():
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")


def test_the_suite_runs_with_lazy_models():
    """tests/conftest.py installs before anything imports aiogram: what runs here is lazy."""
    import aiogram.types

    assert aiogram.types.Message.__pydantic_parent_namespace__["Message"] is aiogram.types.Message
