package dev.flinkoperatorts.runner;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

import java.util.concurrent.CountDownLatch;

/**
 * Runs one Flink cluster in this JVM: a JobManager with its REST API (and web submission, flink-runtime-web being on
 * the classpath) and one TaskManager with the configured slots. The configuration is read by Flink itself from
 * {@code <conf-dir>/config.yaml}, the file the operator writes into the {@code flink-config-<name>} ConfigMap.
 *
 * <p>Usage: {@code FlinkLauncher <conf-dir>}. Prints one line {@code flink-runner: REST listening on port N} once the
 * REST API answers, and stops the cluster on SIGTERM.
 */
public final class FlinkLauncher {
    private FlinkLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: FlinkLauncher <conf-dir>");
            System.exit(2);
        }
        Configuration conf = GlobalConfiguration.loadConfiguration(args[0]);
        conf.set(RestOptions.BIND_ADDRESS, conf.get(RestOptions.BIND_ADDRESS, "127.0.0.1"));
        conf.set(RestOptions.ADDRESS, conf.get(RestOptions.ADDRESS, "127.0.0.1"));

        MiniClusterConfiguration cluster =
                new MiniClusterConfiguration.Builder()
                        .setConfiguration(conf)
                        .setNumTaskManagers(1)
                        .setNumSlotsPerTaskManager(conf.get(TaskManagerOptions.NUM_TASK_SLOTS))
                        .build();
        MiniCluster miniCluster = new MiniCluster(cluster);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    try {
                                        miniCluster.close();
                                    } catch (Exception e) {
                                        System.err.println("flink-runner: stopping failed: " + e);
                                    } finally {
                                        stopped.countDown();
                                    }
                                },
                                "flink-runner-shutdown"));
        miniCluster.start();
        int port = miniCluster.getRestAddress().get().getPort();
        System.out.println("flink-runner: REST listening on port " + port);
        System.out.flush();
        stopped.await();
    }
}
