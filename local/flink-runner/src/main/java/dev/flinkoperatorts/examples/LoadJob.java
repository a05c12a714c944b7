package dev.flinkoperatorts.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * A load a test turns up and down while the job runs: ten records a second reach a task that, once a second, sleeps
 * its share of the load read from {@code --load-file} (a number: 2 keeps two subtasks fully busy; no file is no
 * load). Like upstream's LoadSimulationPipeline, but the test, not a sine, sets the load.
 */
public final class LoadJob {
    private LoadJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> arguments = Load.arguments(args);
        Path file = Path.of(arguments.get("load-file"));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.disableOperatorChaining();
        env.fromSource(
                        new DataGeneratorSource<>(
                                (GeneratorFunction<Long, Long>) index -> index, Long.MAX_VALUE, RateLimiterStrategy.perSecond(10), Types.LONG),
                        WatermarkStrategy.noWatermarks(),
                        "records")
                .shuffle()
                .flatMap(new FileLoad(file.toString()))
                .name("load")
                .sinkTo(new DiscardingSink<>());
        env.execute("LoadJob");
    }

    private static final class FileLoad extends RichFlatMapFunction<Long, Long> {
        private final String file;
        private long lastSecond = -1;

        FileLoad(String file) {
            this.file = file;
        }

        @Override
        public void flatMap(Long value, Collector<Long> out) throws Exception {
            out.collect(value);
            long now = System.currentTimeMillis();
            if (now / 1000 == lastSecond) return;
            lastSecond = now / 1000;
            int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
            Load.sleepShare(load() / parallelism, now, 1000);
        }

        private double load() {
            try {
                return Double.parseDouble(Files.readString(Path.of(file)).trim());
            } catch (Exception e) {
                return 0;
            }
        }
    }
}
