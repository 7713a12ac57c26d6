"""A form as one Slack modal: a core sheet drawn as input blocks, and read back from `view.state`.

Each field is an input block `f:<field id>` with one element, `value`:
choices, yes/no and people are selects (the org's people by name, the value
their handle), a date a datepicker, a number a number input, e-mail and link
their own inputs, a file a file input, and everything else plain text read by
the same readers as a chat answer (money, a period, table rows). Nothing read
back is trusted: the core reads it again and answers with errors per block.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from core.chat.form_sheets import Sheet, SheetField, StepSheet
from core.presentation.i18n import N_

CALLBACK_ID = "tf.form"
STEP_CALLBACK_ID = "tf.step"
BLOCK_PREFIX = "f:"
ACTION = "value"
TITLE_LIMIT = 24
LABEL_LIMIT = 2000
HINT_LIMIT = 2000
OPTION_LIMIT = 75
OPTIONS_MAX = 100
VIEW_BLOCKS = 100
SEND, CLOSE, DONE = N_("Send"), N_("Cancel"), N_("Done")


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": (text or " ")[:limit], "emoji": True}


def form_view(say, sheet: Sheet, *, channel: str | None = None) -> dict:
    """The modal for a sheet; `say` translates the buttons into the person's language."""
    blocks: list[dict] = []
    if sheet.intro:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": sheet.intro[:HINT_LIMIT]}]})
    blocks += [input_block(f, say) for f in sheet.fields][:VIEW_BLOCKS - len(blocks)]
    meta = {"form": sheet.form_id, "task": sheet.task_id, "c": channel}
    return modal(say, CALLBACK_ID, meta, sheet.title, SEND, blocks)


def step_view(say, sheet: StepSheet, origin: dict) -> dict:
    """The modal a work step's Done opens: the fields the step fills, then Done."""
    meta = {"task": sheet.task_id, "s": sheet.step_arg, **origin}
    return modal(say, STEP_CALLBACK_ID, meta, sheet.title, DONE, [input_block(f, say) for f in sheet.fields][:VIEW_BLOCKS])


def modal(say, callback_id: str, meta: dict, title: str, submit: str, blocks: list[dict]) -> dict:
    """A modal of ours: `submit` (a msgid) and Cancel in the person's language, `meta` kept for the submission."""
    return {
        "type": "modal", "callback_id": callback_id, "private_metadata": json.dumps(meta),
        "title": plain(title, TITLE_LIMIT), "submit": plain(say(submit), TITLE_LIMIT),
        "close": plain(say(CLOSE), TITLE_LIMIT), "blocks": blocks,
    }


def read_metadata(view: dict) -> dict:
    """The modal's private_metadata as we wrote it, or {} when it is not a JSON object."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def step_metadata(view: dict) -> tuple[int | None, str | None, dict]:
    """The task, the step ("s17") and where the card was, from a step modal (None when unreadable)."""
    meta = read_metadata(view)
    if not isinstance(meta.get("task"), int) or not isinstance(meta.get("s"), str):
        return None, None, {}
    return meta.pop("task"), meta.pop("s"), meta


def input_block(f: SheetField, say) -> dict:
    block = {"type": "input", "block_id": BLOCK_PREFIX + f.id, "label": plain(f.label, LABEL_LIMIT),
             "optional": not f.required, "element": element(f)}
    if f.hint:
        block["hint"] = plain(f.hint, HINT_LIMIT)
    return block


def element(f: SheetField) -> dict:
    """The Block Kit element that asks for this field."""
    if f.options:
        options = [option(value, label) for value, label in f.options[:OPTIONS_MAX]]
        picked = [o for o in options if o["value"] in f.picked]
        if f.type == "yes_no":
            return {"type": "radio_buttons", "action_id": ACTION, "options": options,
                    **({"initial_option": picked[0]} if picked else {})}
        if f.multiple:
            return {"type": "multi_static_select", "action_id": ACTION, "options": options,
                    **({"initial_options": picked} if picked else {})}
        return {"type": "static_select", "action_id": ACTION, "options": options,
                **({"initial_option": picked[0]} if picked else {})}
    if f.type == "date":
        return {"type": "datepicker", "action_id": ACTION, **({"initial_date": f.initial} if f.initial else {})}
    if f.type == "number":
        return {"type": "number_input", "action_id": ACTION, "is_decimal_allowed": True}
    if f.type == "email":
        return {"type": "email_text_input", "action_id": ACTION}
    if f.type == "link":
        return {"type": "url_text_input", "action_id": ACTION}
    if f.type == "file":
        return {"type": "file_input", "action_id": ACTION, "max_files": 10 if f.multiple else 1}
    text = {"type": "plain_text_input", "action_id": ACTION, "multiline": f.type in ("long_text", "table")}
    if f.max_length:
        text["max_length"] = f.max_length
    if f.initial:
        text["initial_value"] = f.initial[:f.max_length or 3000]
    return text


def option(value: str, label: str) -> dict:
    return {"text": plain(label, OPTION_LIMIT), "value": value[:150]}


def metadata(view: dict) -> tuple[str | None, int | None, str | None]:
    """The form, the task it is attached to and the channel it was started in (None when unreadable)."""
    meta = read_metadata(view)
    if not isinstance(meta.get("form"), str):
        return None, None, None
    task = meta.get("task")
    channel = meta.get("c")
    return meta["form"], task if isinstance(task, int) else None, channel if isinstance(channel, str) else None


def answers(view: dict) -> dict:
    """Field id -> what was typed or picked, as the core's readers take it (None: left empty)."""
    found = {}
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        if not block_id.startswith(BLOCK_PREFIX) or not isinstance(actions, dict):
            continue
        state = actions.get(ACTION)
        if isinstance(state, dict):
            found[block_id[len(BLOCK_PREFIX):]] = read_state(state)
    return found


def read_state(state: dict):
    kind = state.get("type")
    if kind in ("static_select", "radio_buttons"):
        return (state.get("selected_option") or {}).get("value")
    if kind in ("multi_static_select", "checkboxes"):
        return [o.get("value") for o in state.get("selected_options") or [] if isinstance(o, dict)] or None
    if kind == "datepicker":
        return state.get("selected_date")
    if kind == "datetimepicker":
        stamp = state.get("selected_date_time")
        return datetime.fromtimestamp(stamp, timezone.utc).isoformat() if isinstance(stamp, int) else None
    if kind == "file_input":
        files = [f for f in state.get("files") or [] if isinstance(f, dict) and f.get("id")]
        return [{"file_id": f["id"], "platform": "slack", "name": f.get("name"), "mime_type": f.get("mimetype"),
                 "size": f.get("size")} for f in files] or None
    value = state.get("value")
    return value if isinstance(value, str) else None


ERROR_LIMIT = 500


def refused(view: dict, result, stale: str | None) -> dict | None:
    """The `response_action: errors` acknowledgement for a submission that changed nothing — metadata
    we never wrote (`stale`), field errors, or a refusal (shown under the first field) — else None."""
    first = next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), None)
    if stale is not None:
        found = {"": stale}
    elif result.errors:
        found = {BLOCK_PREFIX + field_id if field_id else "": text for field_id, text in result.errors.items()}
    elif result.refusal is not None:
        found = {"": result.refusal.text}
    else:
        return None
    return {"response_action": "errors",
            "errors": {(block or first): text[:ERROR_LIMIT] for block, text in found.items() if block or first}}
