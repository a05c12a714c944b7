package dev.flinkoperatorts.catalogue;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.runtime.util.EnvironmentInformation;

/**
 * Every configuration option this Flink declares, read from its own jars: each {@code ConfigOption} held by a public
 * static field of a Flink {@code *Options} class on the classpath — its key, the type Flink parses the value into
 * (with an enum's constants), whether it is a list, its deprecated keys and whether the option itself is deprecated.
 *
 * <p>Usage: {@code ConfigCatalogue <out-file>}. Writes one line per option, sorted by key, tab-separated:
 * {@code key  type  deprecated-keys(,)  deprecated(0|1)}, where type is {@code Integer}, {@code Duration},
 * {@code MemorySize}, {@code enum:A|B}, … and a list type ends in {@code []}. The first line is
 * {@code # Flink <version>}.
 */
public final class ConfigCatalogue {
    private ConfigCatalogue() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ConfigCatalogue <out-file>");
            System.exit(2);
        }
        Map<String, String> lines = new TreeMap<>();
        for (String className : optionClasses()) {
            Class<?> type;
            try {
                type = Class.forName(className, false, ConfigCatalogue.class.getClassLoader());
            } catch (Throwable notLoadable) {
                continue; // a class whose dependencies are not on this classpath declares nothing we can run
            }
            for (Field field : fieldsOf(type)) {
                if (!Modifier.isStatic(field.getModifiers()) || !Modifier.isPublic(field.getModifiers())) continue;
                if (!ConfigOption.class.isAssignableFrom(field.getType())) continue;
                ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                if (option == null || option.key().startsWith("$internal") || option.key().startsWith("<")) continue;
                // One key may be declared twice (an old class keeping a deprecated copy): the live declaration wins.
                lines.merge(
                        option.key(),
                        line(option, field.isAnnotationPresent(Deprecated.class)),
                        (a, b) -> a.endsWith("\t1") ? b : a);
            }
        }
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[0]), StandardCharsets.UTF_8))) {
            out.print("# Flink " + EnvironmentInformation.getVersion() + "\n");
            for (String line : lines.values()) out.print(line + "\n");
        }
    }

    /** A class's fields, or none when they name types this classpath lacks. */
    private static List<Field> fieldsOf(Class<?> type) {
        try {
            return Arrays.asList(type.getFields());
        } catch (Throwable linkage) {
            return List.of();
        }
    }

    private static String line(ConfigOption<?> option, boolean deprecated) throws ReflectiveOperationException {
        Field clazzField = ConfigOption.class.getDeclaredField("clazz");
        clazzField.setAccessible(true);
        Field isListField = ConfigOption.class.getDeclaredField("isList");
        isListField.setAccessible(true);
        Class<?> clazz = (Class<?>) clazzField.get(option);
        String type = clazz.isEnum()
                ? "enum:" + Arrays.stream(clazz.getEnumConstants()).map(Object::toString).collect(Collectors.joining("|"))
                : clazz.getSimpleName();
        if ((boolean) isListField.get(option)) type += "[]";
        List<String> deprecatedKeys = new ArrayList<>();
        for (FallbackKey key : option.fallbackKeys()) if (key.isDeprecated()) deprecatedKeys.add(key.getKey());
        return String.join("\t", option.key(), type, String.join(",", deprecatedKeys), deprecated ? "1" : "0");
    }

    /** Flink's classes named {@code *Options} in every jar of the classpath. */
    private static List<String> optionClasses() throws IOException {
        List<String> names = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!entry.endsWith(".jar")) continue;
            try (JarFile jar = new JarFile(entry)) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    String name = e.nextElement().getName();
                    if (name.startsWith("org/apache/flink/") && name.endsWith("Options.class") && !name.contains("$")) {
                        names.add(name.substring(0, name.length() - ".class".length()).replace('/', '.'));
                    }
                }
            }
        }
        return names;
    }
}
