# guestd-test: kvm
# The running guestd's introspection matches dbus/org.guestd1.xml, the
# written-down API: for org.guestd1.Manager on /org/guestd1 and
# org.guestd1.Guest on a guest's object, the same methods with the same
# argument names, types and directions, the same signals, and the same
# properties with the same types and access. The manager object also
# carries org.freedesktop.DBus.ObjectManager. Asked as an ordinary user,
# as a desktop client would.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
daemon_start

expect_exit 0 "A creates a guest" "${CTL_A[@]}" create probe --kernel "$G/hello.elf" --memory 16
expect_exit 0 "A's list" "${CTL_A[@]}" list --json
OBJ=$(json 'd[0]["object"]' <"$TMP/out")

expect_exit 0 "introspect /org/guestd1" "${AS_A[@]}" busctl --address="$BUS" introspect --xml-interface org.guestd1 /org/guestd1
cp "$TMP/out" "$TMP/manager.xml"
expect_exit 0 "introspect $OBJ" "${AS_A[@]}" busctl --address="$BUS" introspect --xml-interface org.guestd1 "$OBJ"
cp "$TMP/out" "$TMP/guest.xml"

"$PY" - dbus/org.guestd1.xml "$TMP/manager.xml" "$TMP/guest.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

def load(path):
    # Strip the DOCTYPE: ElementTree does not fetch DTDs anyway.
    root = ET.fromstring(open(path, "rb").read())
    return {i.get("name"): i for i in root.iter("interface")}

def shape(iface):
    members = {}
    for m in iface.findall("method"):
        members["method " + m.get("name")] = [
            (a.get("name"), a.get("type"), a.get("direction") or "in") for a in m.findall("arg")]
    for s in iface.findall("signal"):
        members["signal " + s.get("name")] = [(a.get("name"), a.get("type")) for a in s.findall("arg")]
    for p in iface.findall("property"):
        members["property " + p.get("name")] = (p.get("type"), p.get("access"))
    return members

spec = load(sys.argv[1])
manager = load(sys.argv[2])
guest = load(sys.argv[3])
failures = 0
for name, live in (("org.guestd1.Manager", manager), ("org.guestd1.Guest", guest)):
    if name not in live:
        print("FAIL: %s is not on the object (has: %s)" % (name, ", ".join(sorted(live))))
        failures += 1
        continue
    want, got = shape(spec[name]), shape(live[name])
    for key in sorted(set(want) | set(got)):
        if key not in got:
            print("FAIL: %s: %s is in dbus/org.guestd1.xml but not in the daemon" % (name, key)); failures += 1
        elif key not in want:
            print("FAIL: %s: %s is in the daemon but not in dbus/org.guestd1.xml" % (name, key)); failures += 1
        elif want[key] != got[key]:
            print("FAIL: %s: %s: xml %s, daemon %s" % (name, key, want[key], got[key])); failures += 1
        else:
            print("ok: %s: %s" % (name, key))
if "org.freedesktop.DBus.ObjectManager" not in manager:
    print("FAIL: /org/guestd1 lacks org.freedesktop.DBus.ObjectManager"); failures += 1
else:
    print("ok: /org/guestd1 has org.freedesktop.DBus.ObjectManager")
sys.exit(1 if failures else 0)
EOF
check "introspection matches dbus/org.guestd1.xml" [ $? = 0 ]

# PropertiesChanged for State reaches the owner once it has subscribed
# (guestd broadcasts nothing: test-daemon-confidentiality.sh).
WATCH=$(abspath "$B/tests/bus-watch")
install -m 0755 "$WATCH" "$DTMP/bus-watch"
"${AS_A[@]}" "$DTMP/bus-watch" "$BUS" 30 --subscribe >"$TMP/monitor" 2>&1 &
MON=$!
wait_file "$TMP/monitor" '^READY' 20
expect_exit 0 "start probe" "${CTL_A[@]}" start probe
wait_state a probe stopped 20
wait_file "$TMP/monitor" '"stopped"' 5 # the last PropertiesChanged
kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null
check "PropertiesChanged with State was sent to the subscribed owner" grep -q '"State"' "$TMP/monitor"
finish
