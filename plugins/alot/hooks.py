# alot hooks for bouncewatch: copy into (or import from) ~/.config/alot/hooks.py.
#
# bouncewatch_count(ui): tells how much unread backscatter waits (bound to
#   meta n in plugins/alot/config);
# pre_global_refresh(ui, dbm, cmd): after alot's refresh (`@`), lets
#   bouncewatch look at the new mail (it runs as notmuch's post-new hook too;
#   it is incremental, so running it twice costs milliseconds).
#
# Only numbers are shown: nothing from the mail is put into alot's UI here.
import subprocess


def _unread_backscatter(dbm):
    try:
        return dbm.count_messages('tag:backscatter and tag:unread')
    except Exception:  # an old alot or a locked database: say nothing
        return 0


def bouncewatch_count(ui):
    n = _unread_backscatter(ui.dbman)
    if n:
        ui.notify('bouncewatch: %d unread backscatter report(s); meta B shows the report' % n,
                  priority='error')
    else:
        ui.notify('bouncewatch: no unread backscatter')


def pre_global_refresh(ui, dbm, cmd):
    try:
        subprocess.run(['bouncewatch', 'hook', 'post-new'], timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        pass
