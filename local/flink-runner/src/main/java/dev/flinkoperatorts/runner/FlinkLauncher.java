package dev.flinkoperatorts.runner;

import org.apache.flink.client.deployment.application.ApplicationClusterEntryPoint;
import org.apache.flink.client.deployment.application.ApplicationConfiguration;
import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.entrypoint.ClusterEntrypoint;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.resourcemanager.StandaloneResourceManagerFactory;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one Flink cluster in this JVM, configured by Flink itself from {@code <conf-dir>/config.yaml} (the file the
 * operator writes into the {@code flink-config-<name>} ConfigMap).
 *
 * <ul>
 *   <li>With {@code pipeline.jars} set: Flink's own application mode, as its Kubernetes application entrypoint runs
 *       it: the main class and arguments from {@code $internal.application.*}, the job id pinned by
 *       {@code $internal.pipeline.job-id}, a restore from {@code execution.savepoint.path}, a failing main shown as a
 *       FAILED job, and the JobManager kept up after the job ends — plus TaskManagers in the same JVM, as many as
 *       its job asks for (TaskManagerPool).
 *   <li>Without: a session cluster (JobManager with its REST API and jar upload, one TaskManager).
 * </ul>
 *
 * <p>Usage: {@code FlinkLauncher <conf-dir>}. Prints {@code flink-runner: REST listening on port N} in session mode;
 * in application mode the REST port is the configured {@code rest.port}.
 */
public final class FlinkLauncher {
    private FlinkLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: FlinkLauncher <conf-dir>");
            System.exit(2);
        }
        exitWithParent();
        Configuration conf = GlobalConfiguration.loadConfiguration(args[0]);
        checkProcessMemory(conf);
        conf.set(RestOptions.BIND_ADDRESS, conf.get(RestOptions.BIND_ADDRESS, "127.0.0.1"));
        conf.set(RestOptions.ADDRESS, conf.get(RestOptions.ADDRESS, "127.0.0.1"));
        if (conf.getOptional(PipelineOptions.JARS).map(jars -> !jars.isEmpty()).orElse(false)) {
            runApplication(conf);
        } else {
            runSession(conf);
        }
    }

    private static void runApplication(Configuration conf) throws Exception {
        List<String> jars = conf.get(PipelineOptions.JARS);
        ApplicationConfiguration application = ApplicationConfiguration.fromConfiguration(conf);
        PackagedProgram program =
                PackagedProgram.newBuilder()
                        .setJarFile(new File(URI.create(jars.get(0))))
                        .setEntryPointClassName(application.getApplicationClassName())
                        .setArguments(application.getProgramArguments())
                        .setConfiguration(conf)
                        .setSavepointRestoreSettings(SavepointRestoreSettings.fromConfiguration(conf))
                        .build();
        LocalApplicationEntrypoint.configure(conf, program);

        // A TaskManager keeps trying to register until the JobManager's resource manager is up; more join as the job
        // asks for slots (a rescale), as pods would on Kubernetes.
        TaskManagerPool taskManagers =
                new TaskManagerPool(conf, inJvmTaskManager(conf), conf.get(TaskManagerOptions.NUM_TASK_SLOTS));
        taskManagers.add();
        taskManagers.follow(conf.get(RestOptions.PORT));
        Runtime.getRuntime().addShutdownHook(new Thread(taskManagers::close, "flink-runner-taskmanager-shutdown"));
        System.out.println("flink-runner: application mode, REST on port " + conf.get(RestOptions.PORT));
        System.out.flush();
        ClusterEntrypoint.runClusterEntrypoint(new LocalApplicationEntrypoint(conf, program));
    }

    /**
     * What Flink's start scripts would compute for a TaskManager process, sized for one shared JVM: the slots and
     * CPUs of the configuration, small memory pools (the whole runner lives in a capped heap).
     */
    private static Configuration inJvmTaskManager(Configuration conf) {
        Configuration sizes = new Configuration();
        sizes.set(TaskManagerOptions.NUM_TASK_SLOTS, conf.get(TaskManagerOptions.NUM_TASK_SLOTS));
        sizes.set(TaskManagerOptions.CPU_CORES, (double) conf.get(TaskManagerOptions.NUM_TASK_SLOTS));
        sizes.set(TaskManagerOptions.FRAMEWORK_HEAP_MEMORY, MemorySize.parse("64m"));
        sizes.set(TaskManagerOptions.FRAMEWORK_OFF_HEAP_MEMORY, MemorySize.parse("64m"));
        sizes.set(TaskManagerOptions.TASK_HEAP_MEMORY, MemorySize.parse("128m"));
        sizes.set(TaskManagerOptions.TASK_OFF_HEAP_MEMORY, MemorySize.ZERO);
        sizes.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("64m"));
        sizes.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse("32m"));
        sizes.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse("32m"));
        // The same derivation Flink's start scripts run (BashJavaUtils): every pool explicit, as a TaskExecutor expects.
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(sizes);
        Configuration tm = new Configuration(conf);
        Matcher dynamic = Pattern.compile("-D (\\S+)=(\\S+)").matcher(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec));
        while (dynamic.find()) {
            tm.setString(dynamic.group(1), dynamic.group(2));
        }
        return tm;
    }

    /**
     * What the image's entrypoint computes before it starts a JVM (BashJavaUtils): the JobManager's and TaskManagers'
     * process memory, with Flink's own utilities. A size Flink cannot divide up fails the container at start, as a
     * real pod's would. Only sizes the configuration names (the operator always names both).
     */
    private static void checkProcessMemory(Configuration conf) throws ReflectiveOperationException {
        if (conf.contains(JobManagerOptions.TOTAL_PROCESS_MEMORY)) {
            // 2.x: processSpecFromConfig(conf); 1.x reads the legacy heap keys as the new option it is given.
            Method derive;
            Object[] arguments;
            try {
                derive = JobManagerProcessUtils.class.getMethod("processSpecFromConfig", Configuration.class);
                arguments = new Object[] {conf};
            } catch (NoSuchMethodException legacy) {
                derive = JobManagerProcessUtils.class.getMethod(
                        "processSpecFromConfigWithNewOptionToInterpretLegacyHeap", Configuration.class, ConfigOption.class);
                arguments = new Object[] {conf, JobManagerOptions.TOTAL_PROCESS_MEMORY};
            }
            try {
                derive.invoke(null, arguments);
            } catch (InvocationTargetException refused) {
                throw new IllegalConfigurationException(
                        "JobManager memory: " + refused.getCause().getMessage(), refused.getCause());
            }
        }
        if (conf.contains(TaskManagerOptions.TOTAL_PROCESS_MEMORY)) {
            try {
                TaskExecutorProcessUtils.processSpecFromConfig(conf);
            } catch (IllegalConfigurationException refused) {
                throw new IllegalConfigurationException("TaskManager memory: " + refused.getMessage(), refused);
            }
        }
    }

    private static void runSession(Configuration conf) throws Exception {
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
                                    closeQuietly(miniCluster);
                                    stopped.countDown();
                                },
                                "flink-runner-shutdown"));
        miniCluster.start();
        int port = miniCluster.getRestAddress().get().getPort();
        System.out.println("flink-runner: REST listening on port " + port);
        System.out.flush();
        stopped.await();
    }

    /**
     * A Flink must not outlive the stack that started it, even one killed with SIGKILL (whose exit hooks never
     * run): when the parent process is gone, shut down (shutdown hooks stop the cluster).
     */
    private static void exitWithParent() {
        ProcessHandle.current()
                .parent()
                .ifPresent(
                        parent -> {
                            Thread watcher =
                                    new Thread(
                                            () -> {
                                                parent.onExit().join();
                                                System.err.println("flink-runner: parent process gone, stopping");
                                                System.exit(0);
                                            },
                                            "flink-runner-parent-watch");
                            watcher.setDaemon(true);
                            watcher.start();
                        });
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            System.err.println("flink-runner: stopping failed: " + e);
        }
    }

    /** Flink's application cluster with a standalone resource manager: the TaskManager is ours, in this JVM. */
    static final class LocalApplicationEntrypoint extends ApplicationClusterEntryPoint {
        LocalApplicationEntrypoint(Configuration conf, PackagedProgram program) {
            super(conf, program, StandaloneResourceManagerFactory.getInstance());
        }

        static void configure(Configuration conf, PackagedProgram program) throws Exception {
            configureExecution(conf, program);
        }

        /** As Flink's StandaloneApplicationClusterEntryPoint, which this is: reactive mode runs here. */
        @Override
        protected boolean supportsReactiveMode() {
            return true;
        }
    }
}
