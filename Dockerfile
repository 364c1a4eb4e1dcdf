# The HippoNode node for docker-compose.yml: built with the .NET SDK, run on the ASP.NET runtime (the node serves
# HTTP besides DICOM). Configuration comes from HippoNode__* environment variables (see docker-compose.yml).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/HippoNode/HippoNode.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The committed model folder (split, ONNX ensemble and model card once trained) travels with the node.
COPY models ./models
ENV HippoNode__StorageFolder=/data \
    HippoNode__Http__Url=http://0.0.0.0:8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
VOLUME /data
EXPOSE 11112 8080
ENTRYPOINT ["dotnet", "hipponode.dll"]
CMD ["serve"]
