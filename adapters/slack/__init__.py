"""Slack, through slack-bolt's AsyncApp: slash commands, Block Kit buttons, modals, threads, App Home.

Laid out like Slack's bolt-python starter template: `listeners/` holds one
package per kind of request (commands, actions, views, events), each with a
`register(app)`; `wiring.py` builds the AsyncApp with Teamflow's dependencies.
"""
