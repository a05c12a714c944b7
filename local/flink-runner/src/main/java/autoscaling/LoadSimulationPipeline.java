package autoscaling;

import dev.flinkoperatorts.examples.Load;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * Answers to upstream's {@code autoscaling.LoadSimulationPipeline}: branches of tasks whose load follows a sine over
 * {@code --repeatsAfterMinutes} (default 60), each task's peak given by {@code --maxLoadPerTask} (default
 * {@code 1;2;4;8;16;\n16;8;4;2;1\n8;4;16;1;2}: tasks separated by {@code ;}, branches by a newline). A load of 2 keeps
 * two subtasks fully busy at the peak. Each branch is fed ten records per {@code --samplingIntervalMs} (default
 * 1000); once per interval each subtask sleeps its share of the load. Arguments are read as Flink's ParameterTool
 * reads them ({@code --key value} pairs), as upstream's job does.
 */
public final class LoadSimulationPipeline {
    private LoadSimulationPipeline() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> arguments = Load.arguments(args);
        String maxLoadPerTask = arguments.getOrDefault("maxLoadPerTask", "1;2;4;8;16;\n16;8;4;2;1\n8;4;16;1;2");
        long periodMs = Long.parseLong(arguments.getOrDefault("repeatsAfterMinutes", "60")) * 60_000L;
        int intervalMs = Integer.parseInt(arguments.getOrDefault("samplingIntervalMs", "1000"));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.disableOperatorChaining();
        for (String branch : maxLoadPerTask.split("\n")) {
            DataStream<Long> stream =
                    env.fromSource(
                            new DataGeneratorSource<>(
                                    (GeneratorFunction<Long, Long>) index -> 42L,
                                    Long.MAX_VALUE,
                                    RateLimiterStrategy.perSecond(10 * 1000.0 / intervalMs),
                                    Types.LONG),
                            WatermarkStrategy.noWatermarks(),
                            "ImpulseSource");
            for (String load : branch.split(";")) {
                if (load.isBlank()) continue;
                double peak = Double.parseDouble(load.trim());
                stream = stream.shuffle().flatMap(new SineLoad(peak, periodMs, intervalMs)).name("MaxLoad: " + peak).broadcast();
            }
            stream.sinkTo(new DiscardingSink<>());
        }
        env.execute("Load Simulation (repeats after " + periodMs / 60_000 + " min)");
    }

    private static final class SineLoad extends RichFlatMapFunction<Long, Long> {
        private final double peak;
        private final long periodMs;
        private final int intervalMs;
        private long lastEpoch = -1;

        SineLoad(double peak, long periodMs, int intervalMs) {
            this.peak = peak;
            this.periodMs = periodMs;
            this.intervalMs = intervalMs;
        }

        @Override
        public void flatMap(Long value, Collector<Long> out) throws Exception {
            out.collect(value);
            long now = System.currentTimeMillis();
            long epoch = now % periodMs / intervalMs;
            if (epoch == lastEpoch) return;
            lastEpoch = epoch;
            double amplitude = Math.max(0, Math.sin((double) epoch / ((double) periodMs / intervalMs) * 2 * Math.PI) * 0.5 + 0.5);
            int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
            Load.sleepShare(peak * amplitude / parallelism, now, intervalMs);
        }
    }
}
