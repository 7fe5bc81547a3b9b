/* bw-xapian-meta: read or set one metadata entry of a Xapian database
 * (tests/e2e/T342-nm-xapian.sh edits notmuch's "features" and "version" to
 * check which schemas our own Xapian handle reads,
 * src/adapters/nm-xapian.cc), or set a value slot of the document that
 * holds a term (T342 makes a Message-ID value that is not the document's
 * id term, which the listing must give up on).
 *
 *   bw-xapian-meta DBDIR KEY            print the value
 *   bw-xapian-meta DBDIR KEY VALUE      set it ("\n" in VALUE is a line end)
 *   bw-xapian-meta DBDIR --slot TERM N VALUE
 *                                       set slot N of the one document
 *                                       holding TERM (exit 1: none, or more)
 *
 * Tests only: it writes to the database. */
#include <xapian.h>

#include <cstdio>
#include <string>

int
main(int argc, char **argv)
{
    bool slot = argc == 6 && std::string(argv[2]) == "--slot";
    if (argc != 3 && argc != 4 && !slot) {
        std::fprintf(stderr, "usage: bw-xapian-meta DBDIR KEY [VALUE]\n"
                             "       bw-xapian-meta DBDIR --slot TERM N VALUE\n");
        return 2;
    }
    try {
        if (slot) {
            Xapian::WritableDatabase db(argv[1], Xapian::DB_OPEN);
            if (db.get_termfreq(argv[3]) != 1) {
                std::fprintf(stderr, "bw-xapian-meta: not one document holds %s\n", argv[3]);
                return 1;
            }
            Xapian::docid did = *db.postlist_begin(argv[3]);
            Xapian::Document doc = db.get_document(did);
            doc.add_value((Xapian::valueno)std::stoul(argv[4]), argv[5]);
            db.replace_document(did, doc);
            db.commit();
            return 0;
        }
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
    } catch (const std::exception &e) {   /* a slot number that is none */
        std::fprintf(stderr, "bw-xapian-meta: %s\n", e.what());
        return 2;
    }
}
