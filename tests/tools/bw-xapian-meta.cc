/* bw-xapian-meta: read or set one metadata entry of a Xapian database
 * (tests/e2e/T342-nm-xapian.sh edits notmuch's "features" to check which
 * schemas our own Xapian handle reads, src/adapters/nm-xapian.cc).
 *
 *   bw-xapian-meta DBDIR KEY            print the value
 *   bw-xapian-meta DBDIR KEY VALUE      set it ("\n" in VALUE is a line end)
 *
 * Tests only: it writes to the database. */
#include <xapian.h>

#include <cstdio>
#include <string>

int
main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        std::fprintf(stderr, "usage: bw-xapian-meta DBDIR KEY [VALUE]\n");
        return 2;
    }
    try {
        if (argc == 3) {
            Xapian::Database db(argv[1]);
            std::fputs(db.get_metadata(argv[2]).c_str(), stdout);
            return 0;
        }
        std::string value;
        for (const char *p = argv[3]; *p != '\0'; p++) {
            if (p[0] == '\\' && p[1] == 'n') {
                value.push_back('\n');
                p++;
            } else {
                value.push_back(*p);
            }
        }
        Xapian::WritableDatabase db(argv[1], Xapian::DB_OPEN);
        db.set_metadata(argv[2], value);
        db.commit();
        return 0;
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "bw-xapian-meta: %s\n", e.get_description().c_str());
        return 1;
    }
}
