import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * ranking-java-svc: leaderboards for the game backend. Java 17, JDK only (com.sun.net.httpserver).
 *
 * Environment: PORT (default 8081; 0 = any free port, printed in the "listening" log line), BIND (default
 * 127.0.0.1), JWT_SECRET (shared with auth-python-svc; default: the development key).
 *
 * Routes (the gateway exposes /api/ranking/{path} -> /{path} and /rankings/{path} -> /rankings/{path}):
 *   GET  /                       status document
 *   GET  /boards, GET /rankings  {"boards":[...]}
 *   GET  /{board}, GET /rankings/{board}          top-N: {"board","entries":[{rank,player,score}]}, ?limit=1..100 (10)
 *   POST /{board}, POST /rankings/{board}         {"score", "player"?} -> 201; player = Bearer token subject if an
 *                                                 Authorization header is sent (401 if it does not verify)
 *   GET  /rankings/{board}/{player}               one player's rank
 * Every JSON body carries "service" and "path"; every response carries X-Service.
 */
public final class RankingService {
    static final String SERVICE = "ranking-java-svc";
    static final String VERSION = "1.0.0";
    static final String DEV_SECRET = "dev-only-insecure-jwt-secret";
    static final int MAX_BODY = 64 * 1024;
    static final Pattern BOARD_RE = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    static final Pattern PLAYER_RE = Pattern.compile("[A-Za-z0-9_.-]{1,32}");
    static final Pattern BEARER_RE = Pattern.compile("(?i)^Bearer\\s+(\\S+)\\s*$");
    static final long MAX_SCORE = 1_000_000_000_000L;
    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    static final class HttpError extends Exception {
        final int status;
        final Map<String, String> headers = new HashMap<>();

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }

        HttpError with(String k, String v) {
            headers.put(k, v);
            return this;
        }
    }

    static final class Entry {
        final String player;
        long score;
        long submissions;
        String updatedAt;
        long seq; // tie-break: who reached the score first ranks first

        Entry(String player) {
            this.player = player;
        }
    }

    static final class Board {
        final String name;
        final String createdAt = Instant.now().toString();
        final Map<String, Entry> entries = new HashMap<>();
        long submissions;
        long seq;

        Board(String name) {
            this.name = name;
        }

        synchronized List<Entry> sorted() {
            List<Entry> l = new ArrayList<>(entries.values());
            l.sort(Comparator.comparingLong((Entry e) -> -e.score).thenComparingLong(e -> e.seq));
            return l;
        }

        synchronized Map<String, Object> info() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("players", (long) entries.size());
            m.put("submissions", submissions);
            m.put("created_at", createdAt);
            return m;
        }
    }

    private final byte[] secret;
    private final Map<String, Board> boards = new ConcurrentHashMap<>();
    private final long started = System.currentTimeMillis();
    private HttpServer server;
    private final Object inflightLock = new Object();
    private int inflight;
    private ExecutorService pool;

    RankingService(byte[] secret) {
        this.secret = secret;
        boards.put("global", new Board("global"));
    }

    static void log(Map<String, Object> rec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ts", Instant.now().toString());
        m.put("service", SERVICE);
        m.putAll(rec);
        OUT.println(Json.write(m));
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < kv.length; k += 2) m.put((String) kv[k], kv[k + 1]);
        return m;
    }

    int start(String host, int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, port), 128);
        pool = Executors.newFixedThreadPool(Math.max(4, Runtime.getRuntime().availableProcessors() * 4));
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
        return server.getAddress().getPort();
    }

    /**
     * Lets in-flight exchanges finish (up to graceSeconds), then closes the listener and all connections.
     * (JDK 17's HttpServer.stop(n) always waits the full n seconds when nothing is in flight, JDK-8304065,
     * so the drain is tracked here and stop(0) is used.)
     */
    void stop(int graceSeconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
        synchronized (inflightLock) {
            while (inflight > 0 && System.nanoTime() < deadline) {
                try {
                    inflightLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        server.stop(0);
        pool.shutdown();
        try {
            pool.awaitTermination(graceSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- request plumbing --------------------------------------------------------------------------------

    static final class Ctx {
        final HttpExchange ex;
        final String method;
        final String path;
        final Map<String, String> query = new HashMap<>();
        int status;
        boolean bodyRead;

        Ctx(HttpExchange ex) {
            this.ex = ex;
            this.method = ex.getRequestMethod();
            String p = ex.getRequestURI().getPath();
            this.path = p == null || p.isEmpty() ? "/" : p;
            String q = ex.getRequestURI().getRawQuery();
            if (q != null) {
                for (String pair : q.split("&")) {
                    if (pair.isEmpty()) continue;
                    int eq = pair.indexOf('=');
                    try {
                        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                        query.putIfAbsent(k, v);
                    } catch (IllegalArgumentException ignored) {
                        // malformed escapes: the parameter is dropped
                    }
                }
            }
        }
    }

    private void handle(HttpExchange ex) {
        long t0 = System.nanoTime();
        synchronized (inflightLock) {
            inflight++;
        }
        Ctx ctx = new Ctx(ex);
        try {
            route(ctx);
        } catch (HttpError e) {
            send(ctx, e.status, map("error", e.getMessage(), "status", (long) e.status), e.headers);
        } catch (Throwable t) { // a bug must not take the service down
            log(map("level", "error", "msg", "handler failed", "error", String.valueOf(t)));
            ex.getResponseHeaders().set("Connection", "close");
            send(ctx, 500, map("error", "internal error", "status", 500L), Map.of());
        } finally {
            log(map("level", "info", "method", ctx.method, "path", ctx.path, "status", (long) ctx.status,
                    "duration_ms", (System.nanoTime() - t0) / 1e6,
                    "remote", ex.getRemoteAddress() == null ? "" : ex.getRemoteAddress().getAddress().getHostAddress()));
            ex.close();
            synchronized (inflightLock) {
                inflight--;
                inflightLock.notifyAll();
            }
        }
    }

    private static void send(Ctx ctx, int status, Map<String, Object> body, Map<String, String> headers) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("service", SERVICE);
        m.put("path", ctx.path);
        m.putAll(body);
        byte[] data = Json.write(m).getBytes(StandardCharsets.UTF_8);
        Headers h = ctx.ex.getResponseHeaders();
        h.set("Content-Type", "application/json");
        h.set("X-Service", SERVICE);
        headers.forEach(h::set);
        ctx.status = status;
        try {
            if (!ctx.bodyRead) drain(ctx.ex.getRequestBody());
            boolean head = "HEAD".equals(ctx.method);
            ctx.ex.sendResponseHeaders(status, head ? -1 : data.length);
            if (!head) {
                try (OutputStream os = ctx.ex.getResponseBody()) {
                    os.write(data);
                }
            }
        } catch (IOException e) {
            // client went away; nothing to do
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[8192];
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            total += n;
            if (total > 16L * MAX_BODY) break; // the exchange is closed afterwards anyway
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readJson(Ctx ctx) throws HttpError, IOException {
        String ctype = ctx.ex.getRequestHeaders().getFirst("Content-Type");
        if (ctype != null && !ctype.isEmpty() && !ctype.toLowerCase().contains("json")) {
            throw new HttpError(415, "Content-Type must be application/json");
        }
        InputStream in = ctx.ex.getRequestBody();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = in.read(chunk)) > 0) {
            buf.write(chunk, 0, n);
            if (buf.size() > MAX_BODY) {
                ctx.ex.getResponseHeaders().set("Connection", "close");
                throw new HttpError(413, "body larger than " + MAX_BODY + " bytes");
            }
        }
        ctx.bodyRead = true;
        String raw = buf.toString(StandardCharsets.UTF_8);
        if (raw.isBlank()) throw new HttpError(400, "a JSON object body is required");
        Object v;
        try {
            v = Json.parse(raw);
        } catch (Json.ParseException e) {
            throw new HttpError(400, "invalid JSON: " + e.getMessage());
        }
        if (!(v instanceof Map)) throw new HttpError(400, "the JSON body must be an object");
        return (Map<String, Object>) v;
    }

    private static void allow(String method, String... allowed) throws HttpError {
        for (String a : allowed) if (a.equals(method)) return;
        throw new HttpError(405, "method " + method + " not allowed").with("Allow", String.join(", ", allowed));
    }

    // ---- JWT (HS256, shared secret with auth-python-svc) ---------------------------------------------------

    static Map<String, Object> verifyJwt(String token, byte[] secret, long nowSeconds) throws HttpError {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) throw new HttpError(401, "malformed token");
        Object header;
        Object claims;
        byte[] sig;
        try {
            Base64.Decoder d = Base64.getUrlDecoder();
            header = Json.parse(new String(d.decode(parts[0]), StandardCharsets.UTF_8));
            claims = Json.parse(new String(d.decode(parts[1]), StandardCharsets.UTF_8));
            sig = d.decode(parts[2]);
        } catch (IllegalArgumentException | Json.ParseException e) {
            throw new HttpError(401, "malformed token");
        }
        if (!(header instanceof Map) || !"HS256".equals(((Map<?, ?>) header).get("alg"))) {
            throw new HttpError(401, "unsupported token algorithm");
        }
        byte[] expected;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            expected = mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
        if (!MessageDigest.isEqual(sig, expected)) throw new HttpError(401, "bad token signature");
        if (!(claims instanceof Map)) throw new HttpError(401, "malformed token");
        @SuppressWarnings("unchecked")
        Map<String, Object> c = (Map<String, Object>) claims;
        Object exp = c.get("exp");
        if (!(exp instanceof Number) || nowSeconds >= ((Number) exp).doubleValue()) throw new HttpError(401, "token expired");
        return c;
    }

    private String player(Ctx ctx, Map<String, Object> body) throws HttpError {
        String auth = ctx.ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null) {
            Matcher m = BEARER_RE.matcher(auth);
            if (!m.matches()) {
                throw new HttpError(401, "expected 'Authorization: Bearer <token>'").with("WWW-Authenticate", "Bearer");
            }
            try {
                Object sub = verifyJwt(m.group(1), secret, System.currentTimeMillis() / 1000).get("sub");
                if (sub instanceof String && PLAYER_RE.matcher((String) sub).matches()) return (String) sub;
                throw new HttpError(401, "token has no usable subject");
            } catch (HttpError e) {
                throw e.with("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            }
        }
        Object p = body.get("player");
        if (!(p instanceof String) || !PLAYER_RE.matcher((String) p).matches()) {
            throw new HttpError(400, "'player' must match [A-Za-z0-9_.-]{1,32} (or send a Bearer token)");
        }
        return (String) p;
    }

    // ---- routes ------------------------------------------------------------------------------------------

    private void route(Ctx ctx) throws HttpError, IOException {
        String[] parts = java.util.Arrays.stream(ctx.path.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
        String m = ctx.method;
        if (parts.length == 0) {
            allow(m, "GET", "HEAD");
            long players = 0;
            long submissions = 0;
            for (Board b : boards.values()) {
                Map<String, Object> i = b.info();
                players += (Long) i.get("players");
                submissions += (Long) i.get("submissions");
            }
            send(ctx, 200, map("status", "ok", "version", VERSION, "uptime_s", (System.currentTimeMillis() - started) / 1000.0,
                    "boards", (long) boards.size(), "players", players, "submissions", submissions), Map.of());
            return;
        }
        boolean prefixed = parts[0].equals("rankings");
        String[] rest = prefixed ? java.util.Arrays.copyOfRange(parts, 1, parts.length) : parts;
        if ((prefixed && rest.length == 0) || (!prefixed && rest.length == 1 && rest[0].equals("boards"))) {
            allow(m, "GET", "HEAD");
            List<Object> list = new ArrayList<>();
            boards.values().stream().sorted(Comparator.comparing(b -> b.name)).forEach(b -> list.add(b.info()));
            send(ctx, 200, map("boards", list, "count", (long) list.size()), Map.of());
            return;
        }
        if (rest.length == 1) {
            allow(m, "GET", "HEAD", "POST");
            if (m.equals("POST")) submit(ctx, rest[0]);
            else top(ctx, rest[0]);
            return;
        }
        if (prefixed && rest.length == 2) {
            allow(m, "GET", "HEAD");
            playerRank(ctx, rest[0], rest[1]);
            return;
        }
        throw new HttpError(404, "no route for " + ctx.path);
    }

    private Board board(String name) throws HttpError {
        Board b = boards.get(name);
        if (b == null) throw new HttpError(404, "board '" + name + "' not found");
        return b;
    }

    private void top(Ctx ctx, String name) throws HttpError {
        Board b = board(name);
        long limit = 10;
        String l = ctx.query.get("limit");
        if (l != null) {
            if (!l.matches("[0-9]{1,4}")) throw new HttpError(400, "'limit' must be an integer");
            limit = Long.parseLong(l);
            if (limit < 1 || limit > 100) throw new HttpError(400, "'limit' must be between 1 and 100");
        }
        List<Entry> sorted = b.sorted();
        List<Object> entries = new ArrayList<>();
        synchronized (b) {
            for (int k = 0; k < sorted.size() && k < limit; k++) {
                Entry e = sorted.get(k);
                entries.add(map("rank", (long) k + 1, "player", e.player, "score", e.score, "updated_at", e.updatedAt));
            }
        }
        send(ctx, 200, map("board", name, "entries", entries, "count", (long) entries.size(), "limit", limit,
                "players", (long) sorted.size()), Map.of());
    }

    private void playerRank(Ctx ctx, String name, String player) throws HttpError {
        Board b = board(name);
        List<Entry> sorted = b.sorted();
        for (int k = 0; k < sorted.size(); k++) {
            Entry e = sorted.get(k);
            if (e.player.equals(player)) {
                synchronized (b) {
                    send(ctx, 200, map("board", name, "player", player, "rank", (long) k + 1, "score", e.score,
                            "submissions", e.submissions, "players", (long) sorted.size()), Map.of());
                }
                return;
            }
        }
        throw new HttpError(404, "player '" + player + "' has no score on board '" + name + "'");
    }

    private void submit(Ctx ctx, String name) throws HttpError, IOException {
        if (!BOARD_RE.matcher(name).matches() || name.equals("boards") || name.equals("rankings")) {
            throw new HttpError(400, "board names must match [a-z0-9][a-z0-9_-]{0,63} and not be reserved");
        }
        Map<String, Object> body = readJson(ctx);
        String player = player(ctx, body);
        Object s = body.get("score");
        if (!(s instanceof Long) || (Long) s < 0 || (Long) s > MAX_SCORE) {
            throw new HttpError(400, "'score' must be an integer between 0 and " + MAX_SCORE);
        }
        long score = (Long) s;
        Board b = boards.computeIfAbsent(name, Board::new);
        boolean improved;
        long best;
        synchronized (b) {
            Entry e = b.entries.computeIfAbsent(player, Entry::new);
            improved = e.submissions == 0 || score > e.score;
            if (improved) {
                e.score = score;
                e.seq = ++b.seq;
                e.updatedAt = Instant.now().toString();
            }
            e.submissions++;
            b.submissions++;
            best = e.score;
        }
        long rank = 1;
        for (Entry e : b.sorted()) {
            if (e.player.equals(player)) break;
            rank++;
        }
        send(ctx, 201, map("board", name, "player", player, "score", score, "best", best, "improved", improved,
                "rank", rank), Map.of());
    }

    // ---- main --------------------------------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        String host = System.getenv().getOrDefault("BIND", "127.0.0.1");
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8081"));
        String secret = System.getenv("JWT_SECRET");
        if (secret == null || secret.isEmpty()) {
            secret = DEV_SECRET;
            log(map("level", "warn", "msg", "JWT_SECRET not set: using the development key"));
        }
        RankingService svc = new RankingService(secret.getBytes(StandardCharsets.UTF_8));
        int bound = svc.start(host, port);
        // SIGTERM/SIGINT run shutdown hooks: drain, then halt(0) so a graceful stop exits 0 rather than 143.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log(map("level", "info", "event", "stopping"));
            svc.stop(5);
            log(map("level", "info", "event", "stopped"));
            OUT.flush();
            Runtime.getRuntime().halt(0);
        }, "shutdown"));
        // Announced only once signals are handled, so a supervisor may stop us as soon as it reads this.
        log(map("level", "info", "event", "listening", "host", host, "port", (long) bound));
    }
}
