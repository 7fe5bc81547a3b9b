# subject-mail.sh: the mail of the sent-subject tests (T205, T207), sourced
# after lib.sh with $mail set: the owner's messages in Sent and qmail
# bounces that quote the original's headers without its Message-ID, so
# only the subject (and the time) ties a bounce to its Sent copy.
mkdir -p "$mail/Sent/cur" "$mail/Sent/new" "$mail/Sent/tmp" "$mail/cur" "$mail/new" "$mail/tmp"

n=0
# sent SUBJECT TO DATE: the owner's own message in Sent.
sent() {
    n=$((n + 1))
    cat >"$mail/Sent/cur/sent$n:2,S" <<EOF
From: Alex Morgan <alex@example.org>
To: $2
Subject: $1
Date: $3
Message-ID: <sent$n.$$@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thanks, see you then.
EOF
}
# bounce N SUBJECT TO DATE: a qmail failure notice quoting the original's
# headers, without its Message-ID.
bounce() {
    cat >"$mail/cur/bounce$1:2," <<EOF
Return-Path: <>
Date: $4
From: MAILER-DAEMON@mx.remote.example
To: alex@example.org
Subject: failure notice
Message-ID: <bounce$1.$$@mx.remote.example>

Hi. This is the qmail-send program at mx.remote.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<$3>:
203.0.113.25 does not like recipient.
Remote host said: 550 5.1.1 <$3>: Recipient address rejected: User unknown
Giving up on 203.0.113.25.

--- Below this line is a copy of the message.

Return-Path: <alex@example.org>
Date: $4
From: Alex Morgan <alex@example.org>
To: $3
Subject: $2

Thanks, see you then.
EOF
}
