package dev.flinkoperatorts.examples;

import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * An endless, throttled job with keyed state (the classic state API, so canonical savepoints work): it counts
 * events per key. Stands in for Flink's StateMachineExample, whose jar Maven Central does not serve here.
 *
 * <p>Arguments: {@code --events-per-second N} (default 50), {@code --keys N} (default 10),
 * {@code --fail-in-main} (throw before building the job: a failing application).
 */
public final class CountingJob {
    private CountingJob() {}

    public static void main(String[] args) throws Exception {
        List<String> params = Arrays.asList(args);
        if (params.contains("--fail-in-main")) {
            throw new IllegalStateException("CountingJob was told to fail (--fail-in-main)");
        }
        long perSecond = Long.parseLong(argument(params, "--events-per-second", "50"));
        int keys = Integer.parseInt(argument(params, "--keys", "10"));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(0, Long.MAX_VALUE)
                .map(new Throttle(perSecond))
                .name("throttle")
                .keyBy(n -> n % keys)
                .map(new CountPerKey())
                .uid("count-per-key")
                .name("count-per-key")
                .sinkTo(new DiscardingSink<>());
        env.execute("CountingJob");
    }

    /**
     * The value after {@code name}, else {@code otherwise}. Not Flink's ParameterTool: it moved package in 2.0, and
     * this jar runs on every line.
     */
    private static String argument(List<String> args, String name, String otherwise) {
        int at = args.indexOf(name);
        return at >= 0 && at + 1 < args.size() ? args.get(at + 1) : otherwise;
    }

    /** Lets at most {@code perSecond} events per parallel instance through. */
    static final class Throttle extends RichMapFunction<Long, Long> {
        private final long perSecond;
        private long windowStart;
        private long inWindow;

        Throttle(long perSecond) {
            this.perSecond = Math.max(1, perSecond);
        }

        @Override
        public Long map(Long value) throws InterruptedException {
            long now = System.currentTimeMillis();
            if (now - windowStart >= 1000) {
                windowStart = now;
                inWindow = 0;
            }
            if (++inWindow > perSecond) {
                Thread.sleep(1000 - (now - windowStart));
                windowStart = System.currentTimeMillis();
                inWindow = 1;
            }
            return value;
        }
    }

    /**
     * Keyed state: how many events each key has seen, carried across savepoints and checkpoints. The highest count
     * is the metric {@code count-per-key.highestCount}: after a restore it continues from the restored counts.
     */
    static final class CountPerKey extends RichMapFunction<Long, Tuple2<Long, Long>> {
        private transient ValueState<Long> count;
        private transient volatile long highest;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            getRuntimeContext().getMetricGroup().gauge("highestCount", (Gauge<Long>) () -> highest);
        }

        @Override
        public Tuple2<Long, Long> map(Long value) throws Exception {
            long next = (count.value() == null ? 0 : count.value()) + 1;
            count.update(next);
            highest = Math.max(highest, next);
            return Tuple2.of(value, next);
        }
    }
}
