package dev.flinkoperatorts.runner;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.SchedulerExecutionMode;
import org.apache.flink.core.plugin.PluginUtils;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The TaskManagers of an application cluster, in this JVM, as many as its jobs ask for — what Flink's native
 * Kubernetes resource manager does with pods: each holds {@code taskmanager.numberOfTaskSlots} slots, and one more is
 * started while the running jobs need more slots than there are (per slot sharing group, the highest parallelism
 * a vertex runs at or, on the adaptive scheduler, may run at: its upper bound). A rescale is then limited only as
 * on a cluster, up to {@code MAX_SLOTS}, the most one local JVM holds. Idle TaskManagers stay until the cluster goes.
 */
final class TaskManagerPool implements AutoCloseable {
    private static final int MAX_SLOTS = 32;
    private static final Duration POLL = Duration.ofSeconds(1);

    private final Configuration tmConf;
    private final Configuration conf;
    private final int slotsPerTaskManager;
    private final List<TaskManagerRunner> runners = new CopyOnWriteArrayList<>();
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    TaskManagerPool(Configuration conf, Configuration tmConf, int slotsPerTaskManager) {
        this.conf = conf;
        this.tmConf = tmConf;
        this.slotsPerTaskManager = Math.max(1, slotsPerTaskManager);
    }

    void add() throws Exception {
        TaskManagerRunner runner =
                new TaskManagerRunner(
                        tmConf, PluginUtils.createPluginManagerFromRootFolder(conf), TaskManagerRunner::createTaskExecutorService);
        runner.start();
        runners.add(runner);
    }

    /** Follows the jobs of the JobManager whose REST API listens on {@code restPort}. */
    void follow(int restPort) {
        // Reactive mode asks for every slot up to the max parallelism: its TaskManagers are the user's to set.
        boolean reactive = conf.get(JobManagerOptions.SCHEDULER_MODE) == SchedulerExecutionMode.REACTIVE;
        boolean adaptive = conf.get(JobManagerOptions.SCHEDULER) == JobManagerOptions.SchedulerType.Adaptive;
        Thread watcher =
                new Thread(
                        () -> {
                            while (!Thread.currentThread().isInterrupted()) {
                                try {
                                    Thread.sleep(POLL.toMillis());
                                    int needed = Math.min(MAX_SLOTS, slotsNeeded(restPort, adaptive && !reactive));
                                    while (runners.size() * slotsPerTaskManager < needed) {
                                        System.out.println("flink-runner: starting TaskManager " + (runners.size() + 1) + " (" + needed + " slots asked for)");
                                        add();
                                    }
                                } catch (InterruptedException e) {
                                    return;
                                } catch (Exception e) {
                                    // The JobManager not up yet, or going: ask again.
                                }
                            }
                        },
                        "flink-runner-taskmanager-pool");
        watcher.setDaemon(true);
        watcher.start();
    }

    private int slotsNeeded(int restPort, boolean upperBounds) throws Exception {
        int needed = 0;
        for (JsonNode job : get(restPort, "/jobs/overview").path("jobs")) {
            String state = job.path("state").asText();
            if (state.equals("FINISHED") || state.equals("FAILED") || state.equals("CANCELED")) continue;
            String id = job.path("jid").asText();
            Map<String, Integer> parallelism = new HashMap<>();
            Map<String, String> group = new HashMap<>();
            for (JsonNode v : get(restPort, "/jobs/" + id).path("vertices")) {
                parallelism.put(v.path("id").asText(), v.path("parallelism").asInt(1));
                group.put(v.path("id").asText(), v.path("slotSharingGroupId").asText("default"));
            }
            if (upperBounds) {
                get(restPort, "/jobs/" + id + "/resource-requirements")
                        .fields()
                        .forEachRemaining(
                                e -> parallelism.merge(e.getKey(), e.getValue().path("parallelism").path("upperBound").asInt(1), Math::max));
            }
            Map<String, Integer> perGroup = new HashMap<>();
            parallelism.forEach((vertex, p) -> perGroup.merge(group.getOrDefault(vertex, "default"), p, Math::max));
            needed += perGroup.values().stream().mapToInt(Integer::intValue).sum();
        }
        return needed;
    }

    private JsonNode get(int port, String path) throws Exception {
        HttpResponse<String> response =
                http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new IllegalStateException(path + ": HTTP " + response.statusCode());
        return json.readTree(response.body());
    }

    @Override
    public void close() {
        for (TaskManagerRunner runner : runners) {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("flink-runner: stopping a TaskManager failed: " + e);
            }
        }
    }
}
