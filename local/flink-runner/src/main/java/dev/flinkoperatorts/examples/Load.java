package dev.flinkoperatorts.examples;

import java.util.HashMap;
import java.util.Map;

/** Sleep-based load for the example jobs: busy time a subtask spends without using a core. */
public final class Load {
    private Load() {}

    /** Sleeps `share` of the interval that `now` falls in (1 = the whole of what is left of it). */
    public static void sleepShare(double share, long now, int intervalMs) throws InterruptedException {
        long busy = (long) (share * intervalMs);
        long left = (now / intervalMs + 1) * intervalMs - now;
        long sleep = Math.min(busy, left);
        if (sleep > 0) Thread.sleep(sleep);
    }

    /** `--key value` pairs, as Flink's ParameterTool reads program arguments (a key without a value maps to ""). */
    public static Map<String, String> arguments(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("-")) continue;
            String key = args[i].replaceFirst("^--?", "");
            boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
            out.put(key, hasValue ? args[++i] : "");
        }
        return out;
    }

    /** A per-record cost paid in whole milliseconds of sleep once it has added up to one. */
    public static final class Debt implements java.io.Serializable {
        private final long nanosPerRecord;
        private long owed;

        public Debt(long nanosPerRecord) {
            this.nanosPerRecord = nanosPerRecord;
        }

        public void pay() throws InterruptedException {
            owed += nanosPerRecord;
            if (owed < 1_000_000) return;
            long ms = owed / 1_000_000;
            owed -= ms * 1_000_000;
            Thread.sleep(ms);
        }
    }
}
