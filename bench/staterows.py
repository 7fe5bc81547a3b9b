"""staterows.py: the rows of a bouncewatch state a hook must leave as
`scan --tag` leaves them (bench/incremental-exact.py --hook and
bench/promotion-exact.py compare two states with it).

  state_rows(XDG_DATA_HOME) -> {table: [rows in key order]}
"""
import os
import sqlite3

# meta keys only the hook writes (its settling of alerts), or only
# `scan --json` (its document, kept for a run with nothing new)
HOOK_META = ("alerts_settled", "last_success", "json", "json_key")


def state_rows(state):
    db = sqlite3.connect(os.path.join(state, "bouncewatch", "state.sqlite"))
    out = {}
    for table, order in (("items", "message_id"), ("snap_items", "message_id"),
                         ("campaigns", "id"), ("tagged", "message_id"), ("meta", "key")):
        try:
            rows = db.execute("SELECT * FROM %s ORDER BY %s" % (table, order)).fetchall()
        except sqlite3.Error as e:
            rows = [("error", str(e))]
        if table == "meta":
            rows = [r for r in rows if r[0] not in HOOK_META]
        out[table] = rows
    db.close()
    return out
