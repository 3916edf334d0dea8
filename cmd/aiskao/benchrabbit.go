package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/routes"
)

// rabbitConfig is the demo's routes on RabbitMQ and PostgreSQL, measured with -transport rabbitmq.
const rabbitConfig = "configs/rabbitmq-postgres.yaml"

// envOrDefault is the variable's value, or def where it is not set.
func envOrDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// rabbitURLs are the broker and the database the hub's configuration uses, with its defaults.
func rabbitURLs() (amqpURL, pgURL string) {
	return envOrDefault("AISKAO_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
		envOrDefault("AISKAO_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
}

// reachable checks that the broker and the database answer, for a clear message before a hub
// fails to start.
func reachable() error {
	amqpURL, pgURL := rabbitURLs()
	c, err := amqp.DialConfig(amqpURL, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		return fmt.Errorf("bench: -transport rabbitmq: the broker (AISKAO_AMQP_URL): %w", err)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		return fmt.Errorf("bench: -transport rabbitmq: PostgreSQL (AISKAO_POSTGRES_URL): %w", err)
	}
	return nil
}

// rabbitRound gives one run of the hub a queue prefix and a schema of its own, so that it
// starts empty and leaves the broker and the database as it found them. Where the environment
// names the prefix or the schema, they are the caller's: used as they are and not removed.
func rabbitRound(config string) (env []string, cleanup func() error, err error) {
	name := fmt.Sprintf("aiskao_bench_%x", time.Now().UnixNano())
	_, prefixSet := os.LookupEnv("AISKAO_AMQP_PREFIX")
	_, schemaSet := os.LookupEnv("AISKAO_POSTGRES_SCHEMA")
	var undo []func() error
	if !prefixSet {
		cfg, err := routes.Load(routes.DefaultCatalog(), config)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: configuration %s: %w", config, err)
		}
		var names []string
		for _, r := range cfg.Routes {
			names = append(names, r.Name)
		}
		env = append(env, "AISKAO_AMQP_PREFIX="+name)
		undo = append(undo, func() error { return deleteBrokerObjects(name, names) })
	}
	if !schemaSet {
		env = append(env, "AISKAO_POSTGRES_SCHEMA="+name)
		if _, set := os.LookupEnv("AISKAO_TAX_REGISTER_TABLE"); !set {
			// In the run's schema, so that it goes with it, and not made by several processes at once
			// in a schema they share with other runs.
			env = append(env, "AISKAO_TAX_REGISTER_TABLE="+name+".tax_register")
		}
		undo = append(undo, func() error { return dropSchema(name) })
	}
	return env, func() error {
		var errs []error
		for _, f := range undo {
			errs = append(errs, f())
		}
		return errors.Join(errs...)
	}, nil
}

// dropSchema removes a run's tables, the hub's and the dossiers'.
func dropSchema(name string) error {
	_, pgURL := rabbitURLs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return fmt.Errorf("bench: drop schema %s: %w", name, err)
	}
	defer conn.Close(ctx)
	// The configuration's dossiers are in a schema of their own beside the hub's.
	for _, schema := range []string{name, name + "_dossiers"} {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("bench: drop schema %s: %w", schema, err)
		}
	}
	return nil
}

// deleteBrokerObjects deletes what the rabbitmq transport declares under prefix p for the
// routes (the topology in hub/transport/rabbitmq/doc.go; the topic of a route R is route.R).
func deleteBrokerObjects(p string, routeNames []string) error {
	amqpURL, _ := rabbitURLs()
	c, err := amqp.DialConfig(amqpURL, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
	if err != nil {
		return fmt.Errorf("bench: delete queues and exchanges %s.*: %w", p, err)
	}
	defer c.Close()
	queues := []string{}
	exchanges := []string{p + ".unrouted", p + ".dead", p + ".delay", p + ".redeliver"}
	for _, tier := range []string{"1s", "5s", "15s", "1m", "5m", "15m", "1h", "4h", "24h"} {
		queues = append(queues, p+".delay."+tier) // the delay queues of retries (rabbitmq/delay.go)
	}
	for _, r := range routeNames {
		topic := "route." + r
		queues = append(queues, p+"."+r+"."+topic, p+"."+r+"."+topic+".dead", p+".unrouted."+topic)
		exchanges = append(exchanges, p+"."+topic)
	}
	// A failed delete closes its channel: one channel per object.
	var errs []error
	del := func(f func(*amqp.Channel) error) {
		ch, err := c.Channel()
		if err == nil {
			err = f(ch)
			ch.Close()
		}
		errs = append(errs, err)
	}
	for _, q := range queues {
		del(func(ch *amqp.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	}
	for _, x := range exchanges {
		del(func(ch *amqp.Channel) error { return ch.ExchangeDelete(x, false, false) })
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: delete queues and exchanges %s.*: %w", p, err)
	}
	return nil
}

// issueTokenWith makes an integrator's token with `aiskao tokens create` run with env, so that
// the configuration is read with the same environment as the hub's.
func issueTokenWith(config, data, name string, env []string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(self, "tokens", "create", name, "-role", string(identity.Integrator), "-config", config, "-data", data)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tokens create: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
