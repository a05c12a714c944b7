package autoscaling;

import dev.flinkoperatorts.examples.Load;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * Answers to upstream's {@code autoscaling.AutoscalingExample} (examples/autoscaling): an endless sequence, shuffled
 * to a map that spends a fixed time on each record, and discarded. Its one argument is upstream's iteration count;
 * here each iteration costs 0.1 ms, slept rather than spun, so that a two-core machine runs many subtasks: with
 * {@code 10}, each subtask of the map handles about 1,000 records per second, and the map is busy whatever its
 * parallelism — the autoscaler scales it up until its limits, as upstream's example does.
 */
public final class AutoscalingExample {
    private AutoscalingExample() {}

    public static void main(String[] args) throws Exception {
        long iterations = Long.parseLong(args[0]);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(Long.MIN_VALUE, Long.MAX_VALUE)
                .filter(i -> System.nanoTime() > 1)
                .shuffle()
                .map(new Work(iterations * 100_000L))
                .sinkTo(new DiscardingSink<>());
        env.execute("Autoscaling Example");
    }

    private static final class Work extends RichMapFunction<Long, Long> {
        private final Load.Debt debt;

        Work(long nanosPerRecord) {
            this.debt = new Load.Debt(nanosPerRecord);
        }

        @Override
        public Long map(Long value) throws Exception {
            debt.pay();
            return value;
        }
    }
}
