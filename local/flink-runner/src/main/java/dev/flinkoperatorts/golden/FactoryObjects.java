package dev.flinkoperatorts.golden;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.client.deployment.ClusterSpecification;
import org.apache.flink.configuration.BlobServerOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.DeploymentOptionsInternal;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.kubernetes.KubernetesClusterClientFactory;
import org.apache.flink.kubernetes.configuration.KubernetesConfigOptionsInternal;
import org.apache.flink.kubernetes.entrypoint.KubernetesApplicationClusterEntrypoint;
import org.apache.flink.kubernetes.entrypoint.KubernetesSessionClusterEntrypoint;
import org.apache.flink.kubernetes.kubeclient.FlinkPod;
import org.apache.flink.kubernetes.kubeclient.KubernetesJobManagerSpecification;
import org.apache.flink.kubernetes.kubeclient.factory.KubernetesJobManagerFactory;
import org.apache.flink.kubernetes.kubeclient.parameters.KubernetesJobManagerParameters;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.client.utils.Serialization;
import org.apache.flink.kubernetes.utils.Constants;
import org.apache.flink.kubernetes.utils.KubernetesUtils;

/**
 * Writes to a file, as one JSON array, the Kubernetes objects Flink's own native Kubernetes client creates for the
 * configuration directory given: the JobManager Deployment and its accompanying Services and ConfigMaps. Before the
 * factory it prepares the configuration exactly as KubernetesClusterDescriptor does when it deploys (fixed ports,
 * the entrypoint class), so what comes out is what {@code flink run-application --target kubernetes-application}
 * would create. The golden test (test/flink/golden-objects.test.ts) compares the operator's objects with these.
 *
 * <p>Usage: {@code FactoryObjects <conf dir> <output file>}
 */
public final class FactoryObjects {
    private FactoryObjects() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = GlobalConfiguration.loadConfiguration(args[0]);
        conf.set(DeploymentOptionsInternal.CONF_DIR, args[0]);
        boolean application = "kubernetes-application".equals(conf.get(DeploymentOptions.TARGET));
        KubernetesUtils.checkAndUpdatePortConfigOption(conf, BlobServerOptions.PORT, Constants.BLOB_SERVER_PORT);
        KubernetesUtils.checkAndUpdatePortConfigOption(conf, TaskManagerOptions.RPC_PORT, Constants.TASK_MANAGER_RPC_PORT);
        KubernetesUtils.checkAndUpdatePortConfigOption(conf, RestOptions.BIND_PORT, Constants.REST_PORT);
        conf.set(
                KubernetesConfigOptionsInternal.ENTRY_POINT_CLASS,
                (application ? KubernetesApplicationClusterEntrypoint.class : KubernetesSessionClusterEntrypoint.class).getName());

        ClusterSpecification cluster = new KubernetesClusterClientFactory().getClusterSpecification(conf);
        KubernetesJobManagerSpecification spec =
                KubernetesJobManagerFactory.buildKubernetesJobManagerSpecification(
                        new FlinkPod.Builder().build(), new KubernetesJobManagerParameters(conf, cluster));
        List<Object> objects = new ArrayList<>();
        objects.add(spec.getDeployment());
        objects.addAll(spec.getAccompanyingResources());
        Files.writeString(Path.of(args[1]), Serialization.asJson(objects), StandardCharsets.UTF_8);
    }
}
