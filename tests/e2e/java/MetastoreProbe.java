// The end-to-end suite's thrift client: lists the databases of the metastore at args[0], through
// the metastore's own client library, as Trino's Hive connector and every other client talk to it.
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.metastore.HiveMetaStoreClient;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf;

public class MetastoreProbe {
    public static void main(String[] args) throws Exception {
        Configuration conf = MetastoreConf.newMetastoreConf();
        MetastoreConf.setVar(conf, MetastoreConf.ConfVars.THRIFT_URIS, args[0]);
        MetastoreConf.setLongVar(conf, MetastoreConf.ConfVars.THRIFT_CONNECTION_RETRIES, 1);
        HiveMetaStoreClient client = new HiveMetaStoreClient(conf);
        try {
            List<String> databases = client.getAllDatabases();
            System.out.println(String.join(",", databases));
        } finally {
            client.close();
        }
    }
}
