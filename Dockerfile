# The image of each .NET service: the build argument PROJECT names which (Api, Workers or PaymentSandbox), as
# src/<PROJECT>/Sagas.<PROJECT>.csproj. Build context: the repository root (see docker-compose.yml), e.g.
#   docker build --build-arg PROJECT=Workers -t sagas-workers .
# PROJECT is declared as late as possible in each stage, so the layers before it are shared by the three images.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /repo
# Solution-wide settings first: they decide versions (central package management) and build rules.
COPY global.json Directory.Build.props Directory.Packages.props ./
# All of src/: the project references between them change more often than this file should.
COPY src/ src/
ARG PROJECT
RUN test -n "$PROJECT" || { echo "build argument PROJECT is required (Api, Workers or PaymentSandbox)" >&2; exit 1; } \
    && dotnet publish "src/$PROJECT/Sagas.$PROJECT.csproj" -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
# curl for the compose health check (GET /health/ready).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
EXPOSE 8080
USER $APP_UID
ARG PROJECT
ENV ASPNETCORE_URLS=http://+:8080 \
    SAGAS_SERVICE_DLL=Sagas.$PROJECT.dll
# exec: dotnet replaces the shell, so it is PID 1 and gets `docker stop`'s SIGTERM (a graceful stop); arguments
# (compose's `command`, e.g. migrate) follow the dll.
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"$SAGAS_SERVICE_DLL\" \"$@\"", "--"]
