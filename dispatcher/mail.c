/*
 * mail.c -- the mail channel: a plain-text message sent over SMTP, or
 * written as an .eml file to the outbox folder.
 *
 * The payload is {"to", "subject", "text"}, all strings.  The message is
 * RFC 5322 with a UTF-8 text/plain body sent as 8bit; libcurl does the
 * SMTP dot-stuffing.  Bodies carry one-time codes, so nothing here logs or
 * stores them, not even in error texts.
 *
 * libcurl (7.88 and later alike) waits for the reply to the end of DATA
 * with a blocking read inside curl_multi_perform(), so while one server
 * takes its time to accept a message every other transfer waits too, for
 * at most [mail] timeout.  That is why the timeout must stay well below
 * [dispatcher] lease, and why mail volume is not what the multi handle's
 * concurrency is for.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>

#include "alloc.h"
#include "channel.h"
#include "config.h"
#include "log.h"

/* RFC 5321, 4.5.3.1.3: a path holds at most 256 octets with its <>. */
#define MAIL_TO_MAX		254
/* RFC 5322, 2.1.1: a line holds at most 998 octets before its CRLF. */
#define MAIL_LINE_MAX		998
#define MAIL_SUBJECT_MAX	MAIL_LINE_MAX
#define MAIL_TEXT_MAX		(1024 * 1024)
/* A subject longer than this, or not plain ASCII, is encoded and folded. */
#define MAIL_SUBJECT_PLAIN	66
/*
 * Bytes of subject per encoded-word: 39 bytes make 52 base64 characters,
 * so "Subject: " plus one word stays within 78 columns (RFC 2047, 2).
 */
#define MAIL_WORD_BYTES		39
#define MAIL_DIR_MODE		0750
#define MAIL_FILE_MODE		0640

/* The three fields of a payload, borrowed from its json_object. */
struct mail {
	const char	*to;
	const char	*subject;
	const char	*text;
	size_t		 to_len;
	size_t		 subject_len;
	size_t		 text_len;
};

/* One try over SMTP: the message and how much libcurl has read of it. */
struct mail_try {
	struct buf		 msg;
	size_t			 off;
	struct curl_slist	*rcpt;
};

static char	*mail_sender;	/* "<address>" for MAIL FROM */
static char	*mail_domain;	/* right side of Message-ID */

/* Create dir and its missing parents.  Returns 0 or -1 with errno set. */
static int
mail_mkdirs(const char *dir)
{
	char	*p, *s;
	char	 c;
	int	 rc = 0, saved;

	p = xstrdup(dir);
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, MAIL_DIR_MODE) == -1 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	saved = errno;
	free(p);
	errno = saved;
	return rc;
}

/* Non-zero if s[0..len) holds a byte below 0x20 other than tab, or DEL. */
static int
has_control(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * A bare addr-spec with one '@' and no space, control character or
 * character that would end the address in a header or an SMTP path.
 * Bytes above 0x7f are let through for internationalised addresses.
 */
static int
valid_address(const char *s, size_t len)
{
	const char	*at;
	size_t		 i;

	if (len < 3 || len > MAIL_TO_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f ||
		    strchr("()<>,;:\\\"[]", s[i]) != NULL)
			return 0;
	if ((at = memchr(s, '@', len)) == NULL)
		return 0;
	i = (size_t)(at - s);
	return i > 0 && i + 1 < len &&
	    memchr(at + 1, '@', len - i - 1) == NULL;
}

/* Borrow the string member key of obj.  Returns 0 or -1 with d->error. */
static int
mail_field(struct delivery *d, struct json_object *obj, const char *key,
    const char **s, size_t *len)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		delivery_error(d, "payload: %s is missing or not a string",
		    key);
		return -1;
	}
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (strlen(*s) != *len) {
		delivery_error(d, "payload: %s holds a NUL byte", key);
		return -1;
	}
	return 0;
}

/*
 * Parse and check d's payload into m, which borrows from *objp.  Returns
 * 0, or -1 with d->error set (the delivery cannot succeed).  Caller puts
 * *objp in both cases.
 */
static int
mail_parse(struct delivery *d, struct json_object **objp, struct mail *m)
{
	struct json_tokener	*tok;
	size_t			 len;

	*objp = NULL;
	len = strlen(d->payload);
	if ((tok = json_tokener_new_ex(8)) == NULL) {
		delivery_error(d, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*objp = json_tokener_parse_ex(tok, d->payload, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(*objp, json_type_object)) {
		json_tokener_free(tok);
		delivery_error(d, "payload: not a JSON object");
		return -1;
	}
	json_tokener_free(tok);

	if (mail_field(d, *objp, "to", &m->to, &m->to_len) == -1 ||
	    mail_field(d, *objp, "subject", &m->subject,
	    &m->subject_len) == -1 ||
	    mail_field(d, *objp, "text", &m->text, &m->text_len) == -1)
		return -1;

	/* RFC 5322, 2.2: a header field ends at CRLF; refuse to add one. */
	if (strpbrk(m->to, "\r\n") != NULL ||
	    strpbrk(m->subject, "\r\n") != NULL) {
		delivery_error(d, "payload: CR or LF in a header field");
		return -1;
	}
	if (!valid_address(m->to, m->to_len)) {
		delivery_error(d, "payload: to is not an e-mail address");
		return -1;
	}
	if (m->subject_len > MAIL_SUBJECT_MAX ||
	    has_control(m->subject, m->subject_len)) {
		delivery_error(d, "payload: subject is too long or holds "
		    "a control character");
		return -1;
	}
	if (m->text_len > MAIL_TEXT_MAX) {
		delivery_error(d, "payload: text is longer than %d bytes",
		    MAIL_TEXT_MAX);
		return -1;
	}
	return 0;
}

/* The Date field, RFC 5322, 3.3, in UTC. */
static void
mail_date(struct buf *b, time_t now)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;

	gmtime_r(&now, &tm);
	buf_printf(b, "Date: %s, %d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * The Subject field.  Plain short ASCII goes as it is; anything else as
 * RFC 2047 B encoded-words of UTF-8, one per folded line, never cutting a
 * character in two (RFC 2047, 5, rule 3).
 */
static void
mail_subject(struct buf *b, const char *s, size_t len)
{
	char	 word[sodium_base64_ENCODED_LEN(MAIL_WORD_BYTES,
		    sodium_base64_VARIANT_ORIGINAL)];
	size_t	 i, n;
	int	 plain;

	plain = len <= MAIL_SUBJECT_PLAIN && strstr(s, "=?") == NULL;
	for (i = 0; plain && i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			plain = 0;
	buf_puts(b, "Subject: ");
	if (plain) {
		buf_append(b, s, len);
		buf_puts(b, "\r\n");
		return;
	}
	for (i = 0; i < len; i += n) {
		n = len - i > MAIL_WORD_BYTES ? MAIL_WORD_BYTES : len - i;
		while (i + n < len && n > 1 &&
		    ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		sodium_bin2base64(word, sizeof(word),
		    (const unsigned char *)s + i, n,
		    sodium_base64_VARIANT_ORIGINAL);
		buf_printf(b, "%s=?UTF-8?B?%s?=", i > 0 ? "\r\n " : "", word);
	}
	buf_puts(b, "\r\n");
}

/*
 * The body with every line end made CRLF (RFC 5322, 2.3).  Returns 0, or
 * -1 with d->error set if a line is longer than 8bit allows.
 */
static int
mail_body(struct delivery *d, struct buf *b, const char *s, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < len; i += n) {
		n = strcspn(s + i, "\r\n");
		if (n > MAIL_LINE_MAX) {
			delivery_error(d, "payload: text has a line longer "
			    "than %d bytes", MAIL_LINE_MAX);
			return -1;
		}
		buf_append(b, s + i, n);
		buf_puts(b, "\r\n");
		if (i + n == len)
			break;
		if (s[i + n] == '\r' && s[i + n + 1] == '\n')
			n++;
		n++;
	}
	return 0;
}

/* The whole message for m into b.  Returns 0, or -1 with d->error set. */
static int
mail_build(struct delivery *d, const struct mail *m, struct buf *b)
{
	char	 id[2 * 16 + 1];

	random_hex(id, 16);
	mail_date(b, time(NULL));
	buf_printf(b, "From: %s\r\n", config()->mail_from);
	buf_puts(b, "To: ");
	buf_append(b, m->to, m->to_len);
	buf_puts(b, "\r\n");
	mail_subject(b, m->subject, m->subject_len);
	buf_printf(b, "Message-ID: <%s@%s>\r\n", id, mail_domain);
	/* RFC 3834, 5: no auto-replies to machine-sent mail. */
	buf_puts(b, "Auto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n");
	return mail_body(d, b, m->text, m->text_len);
}

/* Write all of p to fd.  Returns 0 or -1 with errno set. */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The outbox transport: msg goes to <dir>/<UTC time>-<id>.eml through a
 * hidden temporary name, so a reader never sees half a file.  Returns
 * OUTCOME_DELIVERED, or OUTCOME_RETRY with d->error set (a full disk or a
 * missing permission may be fixed).
 */
static enum outcome
mail_outbox(struct delivery *d, const struct buf *msg)
{
	const char	*dir = config()->mail_outbox_dir;
	char		 stamp[32];
	char		*path = NULL, *tmp = NULL;
	struct tm	 tm;
	time_t		 now;
	enum outcome	 o = OUTCOME_RETRY;
	int		 fd = -1;

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	path = xasprintf("%s/%s-%llu.eml", dir, stamp, d->id);
	tmp = xasprintf("%s/.%s-%llu.eml.tmp", dir, stamp, d->id);

	if (mail_mkdirs(dir) == -1) {
		delivery_error(d, "outbox: mkdir %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    MAIL_FILE_MODE);
	if (fd == -1) {
		delivery_error(d, "outbox: open %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The mode asked for, whatever the umask. */
	if (fchmod(fd, MAIL_FILE_MODE) == -1 ||
	    write_all(fd, msg->data, msg->len) == -1 || fsync(fd) == -1) {
		delivery_error(d, "outbox: write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		delivery_error(d, "outbox: close %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		delivery_error(d, "outbox: rename to %s: %s", path,
		    strerror(errno));
		goto out;
	}
	o = OUTCOME_DELIVERED;

out:
	if (fd != -1)
		close(fd);
	if (o != OUTCOME_DELIVERED)
		unlink(tmp);
	free(path);
	free(tmp);
	return o;
}

/* libcurl's CURLOPT_READFUNCTION: the next piece of the message. */
static size_t
mail_read(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct mail_try	*t = arg;
	size_t		 n;

	n = size * nmemb;
	if (n > t->msg.len - t->off)
		n = t->msg.len - t->off;
	memcpy(ptr, t->msg.data + t->off, n);
	t->off += n;
	return n;
}

static long
mail_use_ssl(enum tls_mode mode)
{
	switch (mode) {
	case TLS_NO:
		return CURLUSESSL_NONE;
	case TLS_TRY:
		return CURLUSESSL_TRY;
	default:
		return CURLUSESSL_ALL;
	}
}

/* Set up easy to send t over SMTP.  Returns 0 or -1 with d->error set. */
static int
mail_smtp(struct delivery *d, CURL *easy, struct mail_try *t)
{
	const struct config	*cf = config();
	int			 bad = 0;

	bad |= curl_easy_setopt(easy, CURLOPT_URL, cf->mail_url) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR,
	    "smtp,smtps") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_MAIL_FROM,
	    mail_sender) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, t->rcpt) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_READFUNCTION,
	    mail_read) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_READDATA, t) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)t->msg.len) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_USE_SSL,
	    mail_use_ssl(cf->mail_starttls)) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_TIMEOUT,
	    (long)cf->mail_timeout) != CURLE_OK;
	if (cf->mail_username != NULL && cf->mail_username[0] != '\0') {
		bad |= curl_easy_setopt(easy, CURLOPT_USERNAME,
		    cf->mail_username) != CURLE_OK;
		bad |= curl_easy_setopt(easy, CURLOPT_PASSWORD,
		    cf->mail_password != NULL ? cf->mail_password : "") !=
		    CURLE_OK;
	}
	if (bad) {
		delivery_error(d, "libcurl refused an SMTP option");
		return -1;
	}
	return 0;
}

static enum outcome
mail_prepare(struct delivery *d, CURL *easy)
{
	struct json_object	*obj = NULL;
	struct mail_try		*t;
	struct mail		 m;
	enum outcome		 o = OUTCOME_FAILED;

	t = xcalloc(1, sizeof(*t));
	d->priv = t;
	if (mail_parse(d, &obj, &m) == -1 ||
	    mail_build(d, &m, &t->msg) == -1)
		goto out;

	if (config()->mail_transport == MAIL_OUTBOX) {
		o = mail_outbox(d, &t->msg);
		goto out;
	}

	if ((t->rcpt = curl_slist_append(NULL, m.to)) == NULL) {
		delivery_error(d, "out of memory");
		o = OUTCOME_RETRY;
		goto out;
	}
	o = mail_smtp(d, easy, t) == -1 ? OUTCOME_RETRY : OUTCOME_TRANSFER;

out:
	json_object_put(obj);
	return o;
}

/*
 * A 5yz reply is permanent (RFC 5321, 4.2.1), but only the recipient's
 * and the message's own rejections are final here.  A 5yz to the
 * greeting, EHLO, AUTH or MAIL FROM says the server or our configuration
 * is wrong, which an operator can fix, so those retry like 4yz replies,
 * timeouts and refused connections.
 */
static enum outcome
mail_classify(struct delivery *d, CURL *easy, CURLcode rc)
{
	struct mail_try	*t = d->priv;

	if (rc == CURLE_OK)
		return OUTCOME_DELIVERED;
	if (d->status >= 500 && d->status <= 599) {
		/* libcurl's text when RCPT TO is refused. */
		if (strncmp(d->error, "RCPT failed", 11) == 0)
			return OUTCOME_FAILED;
		/* The server took DATA and refused the message itself. */
		if (t != NULL && t->off > 0) {
			delivery_error(d, "message refused: %ld", d->status);
			return OUTCOME_FAILED;
		}
	}
	return OUTCOME_RETRY;
}

static void
mail_release(struct delivery *d)
{
	struct mail_try	*t = d->priv;

	if (t == NULL)
		return;
	curl_slist_free_all(t->rcpt);
	buf_free(&t->msg);
	free(t);
	d->priv = NULL;
}

/*
 * Take the address and its domain out of [mail] from, which may be
 * "address" or "Name <address>".
 */
static int
mail_init(void)
{
	const struct config	*cf = config();
	const char		*from = cf->mail_from, *addr, *end, *at;

	if (from == NULL || from[0] == '\0' ||
	    has_control(from, strlen(from))) {
		log_error("config: [mail] from: missing or holds a control "
		    "character");
		return -1;
	}
	if ((addr = strchr(from, '<')) != NULL) {
		addr++;
		end = strchr(addr, '>');
	} else {
		addr = from + strspn(from, " \t");
		end = addr + strcspn(addr, " \t");
	}
	if (end == NULL || !valid_address(addr, (size_t)(end - addr))) {
		log_error("config: [mail] from: no e-mail address in it");
		return -1;
	}
	at = memchr(addr, '@', (size_t)(end - addr));
	mail_sender = xasprintf("<%.*s>", (int)(end - addr), addr);
	mail_domain = xstrndup(at + 1, (size_t)(end - at - 1));

	if (cf->mail_transport == MAIL_OUTBOX) {
		if (mail_mkdirs(cf->mail_outbox_dir) == -1) {
			log_error("config: [mail] outbox_dir: %s: %s",
			    cf->mail_outbox_dir, strerror(errno));
			return -1;
		}
		log_info("mail: transport outbox, folder %s",
		    cf->mail_outbox_dir);
		return 0;
	}

	if (cf->mail_url == NULL || (strncasecmp(cf->mail_url, "smtp://", 7)
	    != 0 && strncasecmp(cf->mail_url, "smtps://", 8) != 0)) {
		log_error("config: [mail] url: not an smtp:// or smtps:// URL");
		return -1;
	}
	if (cf->mail_username != NULL && cf->mail_username[0] != '\0' &&
	    strncasecmp(cf->mail_url, "smtp://", 7) == 0 &&
	    cf->mail_starttls == TLS_NO)
		log_warn("mail: [mail] starttls is no: the SMTP login is "
		    "sent in clear");
	if (cf->mail_timeout >= cf->dispatcher_lease)
		log_warn("mail: [mail] timeout (%d s) is not shorter than "
		    "[dispatcher] lease (%d s): a slow mail may be sent twice",
		    cf->mail_timeout, cf->dispatcher_lease);
	log_info("mail: transport smtp");
	return 0;
}

static void
mail_cleanup(void)
{
	free(mail_sender);
	free(mail_domain);
	mail_sender = mail_domain = NULL;
}

const struct channel mail_channel = {
	.name = "mail",
	.init = mail_init,
	.cleanup = mail_cleanup,
	.prepare = mail_prepare,
	.classify = mail_classify,
	.release = mail_release
};
