import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Plain-main test runner for ranking-java-svc (no JUnit on these machines). Starts the real service as a child
 * JVM on a free 127.0.0.1 port (PORT=0), drives it over HTTP, stops it with SIGTERM. Exits 1 if any test fails.
 *
 * Run: java -cp <classes> RankingServiceTest
 */
public final class RankingServiceTest {
    static final String SECRET = "unit-test-secret";
    static int failures;
    static int passed;

    interface Body {
        void run() throws Exception;
    }

    static void test(String name, Body b) {
        try {
            b.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
        }
    }

    static void check(boolean cond, String msg) {
        if (!cond) throw new AssertionError(msg);
    }

    static void eq(Object want, Object got, String msg) {
        if (want == null ? got != null : !want.equals(got)) throw new AssertionError(msg + ": want " + want + ", got " + got);
    }

    // ---- service process --------------------------------------------------------------------------------

    static final class Svc {
        final Process proc;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());
        final int port;

        Svc() throws Exception {
            String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "RankingService");
            pb.environment().put("PORT", "0");
            pb.environment().put("BIND", "127.0.0.1");
            pb.environment().put("JWT_SECRET", SECRET);
            pb.redirectErrorStream(true);
            proc = pb.start();
            Thread pump = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        lines.add(l);
                        all.add(l);
                    }
                } catch (Exception ignored) {
                    // process ended
                }
            });
            pump.setDaemon(true);
            pump.start();
            int p = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (p < 0 && System.nanoTime() < deadline) {
                String l = lines.poll(200, TimeUnit.MILLISECONDS);
                if (l == null || !l.contains("\"event\":\"listening\"")) continue;
                Object rec = Json.parse(l);
                p = ((Long) ((Map<?, ?>) rec).get("port")).intValue();
            }
            if (p < 0) {
                proc.destroyForcibly();
                throw new IllegalStateException("service did not start: " + all);
            }
            port = p;
        }

        int stop() throws Exception {
            if (proc.isAlive()) {
                proc.destroy(); // SIGTERM
                if (!proc.waitFor(10, TimeUnit.SECONDS)) {
                    proc.destroyForcibly();
                    proc.waitFor();
                }
            }
            return proc.exitValue();
        }
    }

    static Svc svc;
    static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static final class Resp {
        int status;
        Map<String, Object> body;
        HttpResponse<String> raw;
    }

    @SuppressWarnings("unchecked")
    static Resp req(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + svc.port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null && headers.length == 0) b.header("Content-Type", "application/json");
        for (int k = 0; k < headers.length; k += 2) b.header(headers[k], headers[k + 1]);
        Resp r = new Resp();
        r.raw = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        r.status = r.raw.statusCode();
        r.body = r.raw.body().isEmpty() ? null : (Map<String, Object>) Json.parse(r.raw.body());
        return r;
    }

    static void from(Resp r, String path) {
        eq("ranking-java-svc", r.raw.headers().firstValue("X-Service").orElse(null), "X-Service header");
        eq("ranking-java-svc", r.body.get("service"), "body.service");
        eq(path, r.body.get("path"), "body.path");
    }

    static String jwt(String sub, long exp, String secret) throws Exception {
        Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
        String h = e.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String p = e.encodeToString(("{\"sub\":\"" + sub + "\",\"exp\":" + exp + "}").getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return h + "." + p + "." + e.encodeToString(mac.doFinal((h + "." + p).getBytes(StandardCharsets.US_ASCII)));
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        test("json parser round trip and rejects", () -> {
            Object v = Json.parse("{\"a\":[1,2.5,\"x\\n\\u00e9\",true,null,{}],\"b\":-3}");
            eq("{\"a\":[1,2.5,\"x\\n\u00e9\",true,null,{}],\"b\":-3}", Json.write(v), "round trip");
            for (String bad : new String[] {"", "{", "{\"a\":}", "[1,]", "01", "\"\\x\"", "{}x", "[".repeat(100) + "]".repeat(100)}) {
                boolean threw = false;
                try {
                    Json.parse(bad);
                } catch (Json.ParseException e) {
                    threw = true;
                }
                check(threw, "should reject: " + bad);
            }
        });

        svc = new Svc();
        try {
            test("GET / status", () -> {
                Resp r = req("GET", "/", null);
                eq(200, r.status, "status");
                from(r, "/");
                eq("ok", r.body.get("status"), "status field");
                eq("application/json", r.raw.headers().firstValue("Content-Type").orElse(null), "content type");
            });
            test("submit and top-N through both path forms", () -> {
                Resp r = req("POST", "/weekly", "{\"player\":\"ann\",\"score\":10}");
                eq(201, r.status, "submit");
                from(r, "/weekly");
                eq(1L, r.body.get("rank"), "rank");
                r = req("POST", "/rankings/weekly", "{\"player\":\"ben\",\"score\":30}");
                eq(201, r.status, "submit 2");
                from(r, "/rankings/weekly");
                r = req("POST", "/weekly", "{\"player\":\"ann\",\"score\":5}");
                eq(false, r.body.get("improved"), "lower score does not improve");
                eq(10L, r.body.get("best"), "best kept");
                r = req("POST", "/weekly", "{\"score\":20}", "Authorization",
                        "Bearer " + jwt("cat", System.currentTimeMillis() / 1000 + 60, SECRET), "Content-Type", "application/json");
                eq(201, r.status, "bearer submit");
                eq("cat", r.body.get("player"), "player from token");
                r = req("GET", "/weekly?limit=2", null);
                eq(200, r.status, "top");
                from(r, "/weekly");
                List<Object> entries = (List<Object>) r.body.get("entries");
                eq(2, entries.size(), "limit");
                eq("ben", ((Map<String, Object>) entries.get(0)).get("player"), "first");
                eq("cat", ((Map<String, Object>) entries.get(1)).get("player"), "second");
                r = req("GET", "/rankings/weekly", null);
                from(r, "/rankings/weekly");
                eq(3L, r.body.get("players"), "players");
                r = req("GET", "/rankings/weekly/ann", null);
                eq(3L, r.body.get("rank"), "ann rank");
            });
            test("board lists", () -> {
                Resp r = req("GET", "/boards", null);
                eq(200, r.status, "boards");
                from(r, "/boards");
                check(((List<Object>) r.body.get("boards")).size() >= 1, "has boards");
                r = req("GET", "/rankings", null);
                eq(200, r.status, "rankings");
                from(r, "/rankings");
                r = req("GET", "/global", null);
                eq(200, r.status, "global exists");
            });
            test("bad tokens are 401", () -> {
                String[] bad = {"Bearer x.y.z", "Bearer " + jwt("x", System.currentTimeMillis() / 1000 + 60, "wrong"),
                        "Bearer " + jwt("x", 1, SECRET), "Basic abc"};
                for (String a : bad) {
                    Resp r = req("POST", "/global", "{\"score\":1}", "Authorization", a, "Content-Type", "application/json");
                    eq(401, r.status, a);
                    eq("ranking-java-svc", r.body.get("service"), "service");
                }
            });
            test("bad input is a JSON 4xx and the service keeps serving", () -> {
                Object[][] cases = {
                    {"POST", "/global", "{nope", 400}, {"POST", "/global", "[1]", 400}, {"POST", "/global", "", 400},
                    {"POST", "/global", "{\"player\":\"a\"}", 400}, {"POST", "/global", "{\"player\":\"a\",\"score\":-1}", 400},
                    {"POST", "/global", "{\"player\":\"a\",\"score\":1.5}", 400}, {"POST", "/global", "{\"score\":1}", 400},
                    {"POST", "/Bad%20Name", "{\"player\":\"a\",\"score\":1}", 400}, {"POST", "/boards", "{}", 405},
                    {"GET", "/no-such-board", null, 404}, {"GET", "/global?limit=0", null, 400},
                    {"GET", "/global?limit=abc", null, 400}, {"DELETE", "/global", null, 405}, {"PUT", "/", null, 405},
                    {"GET", "/a/b/c", null, 404}, {"GET", "/rankings/global/nobody", null, 404},
                };
                for (Object[] c : cases) {
                    Resp r = req((String) c[0], (String) c[1], (String) c[2]);
                    eq(c[3], r.status, c[0] + " " + c[1]);
                    eq("ranking-java-svc", r.body.get("service"), "service");
                    eq(((Integer) c[3]).longValue(), r.body.get("status"), "status field");
                    check(r.body.get("error") != null, "error field");
                }
                Resp r = req("POST", "/global", "player=a", "Content-Type", "text/plain");
                eq(415, r.status, "415");
                r = req("POST", "/global", "{\"player\":\"a\",\"score\":1,\"pad\":\"" + "x".repeat(70000) + "\"}");
                eq(413, r.status, "413");
                eq(200, req("GET", "/", null).status, "still serving");
            });
            test("garbage on the socket does not hurt", () -> {
                try (Socket s = new Socket("127.0.0.1", svc.port)) {
                    s.setSoTimeout(5000);
                    OutputStream os = s.getOutputStream();
                    os.write("\u0000garbage\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    os.flush();
                    InputStream in = s.getInputStream();
                    try {
                        while (in.read() >= 0) { /* whatever the JDK answers, then close */ }
                    } catch (java.io.IOException ignored) {
                        // reset is fine
                    }
                }
                eq(200, req("GET", "/", null).status, "still serving");
            });
            test("one JSON access-log line per request", () -> {
                req("GET", "/boards?x=1", null);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < deadline) {
                    synchronized (svc.all) {
                        for (String l : svc.all) {
                            if (l.contains("\"method\":\"GET\"") && l.contains("\"path\":\"/boards\"") && l.contains("\"status\":200")) {
                                Json.parse(l);
                                return;
                            }
                        }
                    }
                    Thread.sleep(50);
                }
                throw new AssertionError("no access log line");
            });
        } finally {
            int code = svc.stop();
            test("SIGTERM exits 0", () -> eq(0, code, "exit code"));
        }
        test("SIGTERM is quick when idle", () -> {
            Svc other = new Svc();
            long t0 = System.nanoTime();
            eq(0, other.stop(), "exit code");
            check(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(4), "stopped within 4s");
        });
        System.out.println(passed + " passed, " + failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }
}
