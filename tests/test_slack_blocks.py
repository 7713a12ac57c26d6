"""Block Kit drawing, button values and Slack markup, as plain functions."""
from __future__ import annotations

import pytest

from adapters.slack.blocks import SECTION_LIMIT, action_blocks, blocks, chunks, escape, safe_cut, sections
from adapters.slack.mentions import to_plain
from adapters.slack.values import pack, unpack
from core.presentation.messages import Button, Message
from core.services import commands as c


def test_text_is_escaped_and_split_at_line_breaks_within_the_section_limit():
    text = "\n".join(f"line {n} & <x>" for n in range(1000))
    parts = sections(text, room=50)
    assert all(len(p["text"]["text"]) <= SECTION_LIMIT for p in parts)
    assert "\n".join(p["text"]["text"] for p in parts) == escape(text)


def test_a_text_too_long_for_the_blocks_ends_with_a_pointer_to_the_card():
    parts = sections("x" * 200 + "\n" + "y" * 100_000, room=3, more="/show 7")
    assert len(parts) == 3 and parts[-1]["text"]["text"].endswith("…\n/show 7")
    assert all(len(p["text"]["text"]) <= SECTION_LIMIT for p in parts)


def test_a_long_line_is_never_cut_inside_an_entity():
    text = "a" * (SECTION_LIMIT - 2) + "&amp;" + "b" * 10
    assert safe_cut(text, SECTION_LIMIT) == SECTION_LIMIT - 2
    assert all(not piece.endswith(("&", "&a", "&am")) for piece in chunks(text, SECTION_LIMIT))


def test_many_button_rows_share_actions_blocks_and_the_message_stays_within_50_blocks():
    rows = [[Button(f"#{n} Done", c.CloseTask(n))] for n in range(60)]
    drawn = blocks(Message("\n".join(["task"] * 10), buttons=rows))
    assert len(drawn) <= 50
    ids = [e["action_id"] for b in drawn if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids)) == 60
    assert len(action_blocks([[Button("Done", c.CloseTask(1))]])) == 1


@pytest.mark.parametrize("command", [
    c.CloseTask(42), c.SnoozeTask(7, c.SNOOZE_CHOICES["tomorrow"]), c.SnoozeTask(7), c.CommentTask(5), c.Rsvp(3, "in"),
    c.CloseAnnouncement(3), c.ApproveStep(4, 17), c.RejectStep(4, 17), c.ChooseOutcome(4, 17, outcome="2"),
    c.CompleteStep(4, 18), c.PickAnswer(2, "plane"), c.SkipField(3), c.BackField(0), c.SubmitForm(), c.CancelForm()])
def test_button_values_round_trip(command):
    assert unpack(pack(Button("", command))) == command


@pytest.mark.parametrize("value", ["", None, "t:explode:1:", "t:done:abc:", "t:done:1:x y", "t:done:1234567890:",
                                   "t:done:1:" + "a" * 40, "garbage", "done:1:", "s:ap:1:", "s:dc:1:17",
                                   "s:ap:1:17_2", "f:send:3:", "t:snooze:1:someday", "a:maybe:1:"])
def test_values_we_never_made_are_refused(value):
    assert unpack(value) is None


@pytest.mark.parametrize("slack_text, plain", [
    ("Call <@U01PAVEL004|pavel> now", "Call @pavel now"),
    ("Call <@U01PAVEL004> now", "Call @pavel now"),
    ("Call <@U0UNKNOWN|guy>", "Call @guy"),
    ("see <https://x.example/a?b=1&amp;c=2|the file>", "see https://x.example/a?b=1&c=2"),
    ("in <#C0123ABCD|general> &lt;b&gt; &amp; <!here>", "in #general <b> & here"),
])
def test_slack_markup_becomes_what_the_person_meant(slack_text, plain):
    assert to_plain(slack_text, {"U01PAVEL004": "pavel"}) == plain
