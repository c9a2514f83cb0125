// The RabbitMQ task types (community.rabbitmq's names where they exist), one file each.
import { TaskType } from '../task.js';
import { amqp_verify } from './amqp_verify.js';
import { rabbitmq_cluster } from './rabbitmq_cluster.js';
import { rabbitmq_conf } from './rabbitmq_conf.js';
import { rabbitmq_cookie } from './rabbitmq_cookie.js';
import { rabbitmq_feature_flags } from './rabbitmq_feature_flags.js';
import { rabbitmq_health } from './rabbitmq_health.js';
import { rabbitmq_plugins } from './rabbitmq_plugins.js';
import { rabbitmq_policy } from './rabbitmq_policy.js';
import { rabbitmq_restart } from './rabbitmq_restart.js';
import { rabbitmq_user } from './rabbitmq_user.js';
import { rabbitmq_vhost } from './rabbitmq_vhost.js';

export const rabbitmqModules: TaskType<any, any, any>[] = [
  amqp_verify,
  rabbitmq_cluster,
  rabbitmq_conf,
  rabbitmq_cookie,
  rabbitmq_feature_flags,
  rabbitmq_health,
  rabbitmq_plugins,
  rabbitmq_policy,
  rabbitmq_restart,
  rabbitmq_user,
  rabbitmq_vhost,
];
