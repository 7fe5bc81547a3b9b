#!/usr/bin/env python3
"""Drive python3-dbusmock's notification daemon for the e2e tests.

  notify-mock.py wait-name NAME [SECONDS]   wait until NAME has an owner
  notify-mock.py calls                      the Notify calls so far, one JSON
                                            object per line
  notify-mock.py invoke ID ACTION           the user clicks ACTION on
                                            notification ID (ActionInvoked)

Runs on the session bus of the environment (dbus-run-session in the tests).
"""
import json
import sys
import time

import dbus

PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"


def mock():
    bus = dbus.SessionBus()
    return dbus.Interface(bus.get_object(IFACE, PATH), "org.freedesktop.DBus.Mock")


def plain(v):
    if isinstance(v, (dbus.String, str)):
        return str(v)
    if isinstance(v, (dbus.Boolean,)):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16,
                      dbus.UInt32, dbus.UInt64, int)):
        return int(v)
    if isinstance(v, (dbus.Array, list)):
        return [plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): plain(x) for k, x in v.items()}
    return str(v)


def main():
    cmd = sys.argv[1]
    if cmd == "wait-name":
        name, limit = sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 10
        bus = dbus.SessionBus()
        end = time.time() + limit
        while time.time() < end:
            if bus.name_has_owner(name):
                return 0
            time.sleep(0.05)
        print("timeout waiting for %s" % name, file=sys.stderr)
        return 1
    if cmd == "calls":
        for _, method, args in mock().GetCalls():
            if method != "Notify":
                continue
            a = [plain(x) for x in args]
            print(json.dumps({"app": a[0], "replaces_id": a[1], "icon": a[2],
                              "summary": a[3], "body": a[4], "actions": a[5],
                              "hints": a[6], "timeout": a[7]}, ensure_ascii=False))
        return 0
    if cmd == "invoke":
        mock().EmitSignal(IFACE, "ActionInvoked", "us",
                          [dbus.UInt32(int(sys.argv[2])), sys.argv[3]])
        return 0
    print("usage: notify-mock.py wait-name NAME | calls | invoke ID ACTION", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
