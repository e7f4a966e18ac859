# guestd-test: kvm
# The running guestd's introspection is dbus/org.guestd1.xml, the
# written-down API, whole: every interface guestd serves on /org/guestd1
# and on a guest's object (besides the standard
# org.freedesktop.DBus.Peer, Introspectable, Properties and ObjectManager,
# which the file may leave out) is in the file and every interface in the
# file is served; and in each, the same annotations, methods (argument
# names, types and directions, in order), signals (arguments in order)
# and properties (type, access), each with the same annotations, and no
# attribute or element the other side lacks. A difference either way
# fails: code generated from the file (gdbus-codegen, zbus, sdbus-c++)
# must wait for the change signals guestd sends and for no other.
# EmitsChangedSignal is compared by its meaning: absent is "true" (the
# D-Bus specification's default, or the interface's own annotation),
# which sd-bus leaves out and the file may write. The manager object also
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

STANDARD = {"org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Introspectable",
            "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.ObjectManager"}
EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"

failures = 0

def fail(text):
    global failures
    print("FAIL: " + text)
    failures += 1

def load(path):
    # ElementTree skips the DOCTYPE (it fetches no DTD) and the comments.
    root = ET.fromstring(open(path, "rb").read())
    ifaces = {}
    for i in root.findall("interface"):
        if i.get("name") in ifaces:
            fail("%s: interface %s is there twice" % (path, i.get("name")))
        ifaces[i.get("name")] = i
    return ifaces

def named(iface, tag):
    # A name written twice would hide one of them from the comparison.
    seen = {}
    for e in iface.findall(tag):
        if e.get("name") in seen:
            fail("%s: %s %s is there twice" % (iface.get("name"), tag, e.get("name")))
        seen[e.get("name")] = e
    return seen.values()

def attributes(element, defaults={}):
    # Every attribute but the name (the key already says it), defaults
    # filled in, so that an attribute one side has and the other lacks
    # shows.
    attrs = dict(defaults)
    attrs.update((k, v) for k, v in element.attrib.items() if k != "name")
    return attrs

def annotations(element, defaults={}):
    notes = dict(defaults)
    for a in element.findall("annotation"):
        if a.get("name") in notes and a.get("name") not in defaults:
            fail("annotation %s is there twice on one element" % a.get("name"))
        notes[a.get("name")] = a.get("value")
    return notes

def others(element, allowed):
    # Elements the shapes below do not read: shown, so that none is
    # silently ignored on either side.
    return sorted(c.tag for c in element if c.tag not in allowed)

def args(member, direction):
    return [(a.get("name"), attributes(a, {"direction": direction}), annotations(a), others(a, {"annotation"}))
            for a in member.findall("arg")]

def shape(iface):
    inherited = annotations(iface)
    emits = inherited.get(EMITS, "true")
    members = {"interface": {"attributes": attributes(iface), "annotations": inherited,
                             "other elements": others(iface, {"annotation", "method", "signal", "property"})}}
    for m in named(iface, "method"):
        members["method " + m.get("name")] = {"attributes": attributes(m), "arguments": args(m, "in"),
                                              "annotations": annotations(m), "other elements": others(m, {"arg", "annotation"})}
    for s in named(iface, "signal"):
        members["signal " + s.get("name")] = {"attributes": attributes(s), "arguments": args(s, "out"),
                                              "annotations": annotations(s), "other elements": others(s, {"arg", "annotation"})}
    for p in named(iface, "property"):
        members["property " + p.get("name")] = {"attributes": attributes(p), "annotations": annotations(p, {EMITS: emits}),
                                                "other elements": others(p, {"annotation"})}
    return members

spec = load(sys.argv[1])
objects = {"/org/guestd1": load(sys.argv[2]), "a guest's object": load(sys.argv[3])}
live = {}  # interface -> [(object, element)]: each object that has it is compared
for path, ifaces in objects.items():
    for name, iface in ifaces.items():
        live.setdefault(name, []).append((path, iface))
for name in sorted(set(spec) | set(live)):
    if name in STANDARD and name not in spec:
        continue  # the file may leave it out; if it has it, it is compared
    if name not in live:
        fail("%s is in dbus/org.guestd1.xml but on neither object (they have: %s)"
             % (name, "; ".join("%s: %s" % (p, ", ".join(sorted(i))) for p, i in objects.items())))
        continue
    if name not in spec:
        fail("%s (on %s) is not in dbus/org.guestd1.xml" % (name, ", ".join(p for p, _ in live[name])))
        continue
    want = shape(spec[name])
    for path, iface in live[name]:
        got = shape(iface)
        for key in sorted(set(want) | set(got)):
            if key not in got:
                fail("%s on %s: %s is in dbus/org.guestd1.xml but not in the daemon" % (name, path, key))
            elif key not in want:
                fail("%s on %s: %s is in the daemon but not in dbus/org.guestd1.xml" % (name, path, key))
            elif want[key] != got[key]:
                for part in want[key]:
                    if want[key][part] != got[key][part]:
                        fail("%s on %s: %s: %s: xml %s, daemon %s" % (name, path, key, part, want[key][part], got[key][part]))
            else:
                print("ok: %s on %s: %s" % (name, path, key))
if "org.freedesktop.DBus.ObjectManager" not in objects["/org/guestd1"]:
    fail("/org/guestd1 lacks org.freedesktop.DBus.ObjectManager")
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
